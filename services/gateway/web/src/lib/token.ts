/**
 * The API token for writes. Kept in sessionStorage (gone when the tab closes), never in
 * localStorage, never logged, never put in a URL.
 */
export const TOKEN_KEY = 'swingflow.apiToken';

export function loadToken(storage: Storage | undefined = globalThis.sessionStorage): string {
  try {
    return storage?.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function storeToken(token: string, storage: Storage | undefined = globalThis.sessionStorage): void {
  try {
    if (token) storage?.setItem(TOKEN_KEY, token);
    else storage?.removeItem(TOKEN_KEY);
  } catch {
    // storage may be disabled; the token then lives only in the form
  }
}
