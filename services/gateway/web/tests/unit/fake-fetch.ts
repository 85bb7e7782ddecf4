/**
 * A stand-in for `fetch` that answers from a table of routes and records every request,
 * so page tests can check what the dashboard sent (method, headers, body).
 */
export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (request: Recorded) => { status: number; body: unknown };

export function fakeFetch(routes: Record<string, Handler>) {
  const requests: Recorded[] = [];
  const fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const body: unknown = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const request = { method, url, headers, body };
    requests.push(request);
    const path = url.split('?')[0] ?? url;
    const handler = routes[`${method} ${path}`];
    const answer = handler ? handler(request) : { status: 404, body: { detail: `no route ${method} ${path}` } };
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  return { fetch, requests };
}
