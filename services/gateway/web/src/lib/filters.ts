/**
 * The Signals page's filters and their round trip through the URL query, so a filtered view
 * can be bookmarked, shared and restored with the back button. Defaults are left out of the
 * query; unknown or malformed values fall back to the default rather than failing.
 */
import type { SignalStatus, SignalView, SortKey } from './signals';

export interface SignalFilters {
  status: SignalStatus | '';
  setup: string;
  symbol: string;
  /** Minimum total score in [0, 1]; null for none. */
  minScore: number | null;
  sort: SortKey;
  /** 1-based page of the table. */
  page: number;
}

export const DEFAULT_FILTERS: Readonly<SignalFilters> = Object.freeze({
  status: '',
  setup: '',
  symbol: '',
  minScore: null,
  sort: 'score',
  page: 1,
});

type QueryValue = string | null | undefined | (string | null)[];
export type Query = Record<string, QueryValue>;

function first(value: QueryValue): string {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' ? v.trim() : '';
}

const STATUSES: readonly string[] = ['candidate', 'confirmed', 'rejected'];

/** Filters from a route query; anything invalid takes the default. */
export function parseFilters(query: Query): SignalFilters {
  const status = first(query.status);
  const minScore = Number.parseFloat(first(query.min_score));
  const page = Number.parseInt(first(query.page), 10);
  return {
    status: STATUSES.includes(status) ? (status as SignalStatus) : '',
    setup: first(query.setup),
    symbol: first(query.symbol).toUpperCase(),
    minScore: Number.isFinite(minScore) && minScore >= 0 && minScore <= 1 ? minScore : null,
    sort: first(query.sort) === 'newest' ? 'newest' : 'score',
    page: Number.isFinite(page) && page >= 1 ? page : 1,
  };
}

/** The route query for `filters`, without keys at their defaults. */
export function filtersToQuery(filters: SignalFilters): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.status) query.status = filters.status;
  if (filters.setup) query.setup = filters.setup;
  if (filters.symbol) query.symbol = filters.symbol.toUpperCase();
  if (filters.minScore !== null) query.min_score = String(filters.minScore);
  if (filters.sort !== 'score') query.sort = filters.sort;
  if (filters.page > 1) query.page = String(filters.page);
  return query;
}

/** Whether a signal passes the filters (applied to live rows as the server applies them to REST rows). */
export function matchesFilters(view: SignalView, filters: SignalFilters): boolean {
  if (filters.status && view.status !== filters.status) return false;
  if (filters.setup && view.setup !== filters.setup) return false;
  if (filters.symbol && view.symbol !== filters.symbol) return false;
  if (filters.minScore !== null && (view.total === null || view.total < filters.minScore)) {
    return false;
  }
  return true;
}

/** Query parameters for `GET /api/signals` carrying the server-side part of the filters. */
export function signalsApiParams(filters: SignalFilters): Record<string, string> {
  const params: Record<string, string> = {};
  if (filters.status === 'confirmed' || filters.status === 'rejected') params.status = filters.status;
  if (filters.setup) params.setup = filters.setup;
  if (filters.symbol) params.symbol = filters.symbol;
  if (filters.minScore !== null) params.min_score = String(filters.minScore);
  return params;
}

/** The key that decides whether the REST rows must be fetched again (page and sort do not). */
export function serverKey(filters: SignalFilters): string {
  return JSON.stringify(signalsApiParams(filters)) + (filters.status === 'candidate' ? ':live' : '');
}
