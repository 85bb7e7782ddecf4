/**
 * Calls to the gateway's REST API (docs/api.md), same origin. Failures raise `ApiError` with
 * the HTTP status and the server's `detail`, so a page can show the server's own words.
 */
import type {
  Analysis,
  AllocationsPage,
  Funnel,
  Portfolio,
  Readiness,
  SignalsPage,
  WeightsConfig,
  WeightsUpdate,
} from '../types/api';

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;

  constructor(status: number, detail: string) {
    super(status === 0 ? detail : `HTTP ${status}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
  }
}

/**
 * The text of an error body's `detail`: a string as is; FastAPI's validation list as
 * `field: message` pairs joined by `; `.
 */
export function detailText(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('detail' in body)) return '';
  const detail = (body as { detail: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        if (typeof item !== 'object' || item === null) return String(item);
        const { loc, msg } = item as { loc?: unknown; msg?: unknown };
        const path = Array.isArray(loc) ? loc.filter((p) => p !== 'body').join('.') : '';
        return path ? `${path}: ${String(msg)}` : String(msg);
      })
      .join('; ');
  }
  return JSON.stringify(detail);
}

export type Params = Record<string, string | number | null | undefined>;

export function withParams(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Fetches JSON. `okStatuses` lists non-2xx statuses whose body is still the answer
 * (`/readyz` answers 503 with its checks when degraded).
 */
export async function requestJson<T>(
  path: string,
  init: RequestInit = {},
  okStatuses: readonly number[] = [],
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { Accept: 'application/json', ...init.headers } });
  } catch {
    throw new ApiError(0, 'could not reach the gateway');
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok && !okStatuses.includes(response.status)) {
    throw new ApiError(response.status, detailText(body) || response.statusText || 'request failed');
  }
  return body as T;
}

export const api = {
  signals: (params: Params, signal?: AbortSignal) =>
    requestJson<SignalsPage>(withParams('/api/signals', params), { signal }),
  funnel: (params: Params) => requestJson<Funnel>(withParams('/api/signals/funnel', params)),
  analysis: (symbol: string, bars = 250) =>
    requestJson<Analysis>(withParams(`/api/symbol/${encodeURIComponent(symbol)}/analysis`, { bars })),
  portfolio: () => requestJson<Portfolio>('/api/portfolio'),
  allocations: (params: Params) =>
    requestJson<AllocationsPage>(withParams('/api/allocations', params)),
  weights: () => requestJson<WeightsConfig>('/api/weights'),
  putWeights: (body: WeightsUpdate, token: string) =>
    requestJson<WeightsConfig>('/api/weights', {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }),
  readiness: () => requestJson<Readiness>('/readyz', {}, [503]),
};

export type Api = typeof api;
