import { beforeEach, describe, expect, it } from 'vitest';
import { applyTheme, initialTheme, theme, THEME_KEY, toggleTheme } from '../../src/lib/theme';
import { loadToken, storeToken, TOKEN_KEY } from '../../src/lib/token';

describe('theme', () => {
  beforeEach(() => localStorage.clear());

  it('follows the system preference until the user chooses', () => {
    expect(initialTheme(localStorage, true)).toBe('dark');
    expect(initialTheme(localStorage, false)).toBe('light');
    localStorage.setItem(THEME_KEY, 'light');
    expect(initialTheme(localStorage, true)).toBe('light');
  });

  it('applies the theme to the document and remembers a toggle', () => {
    applyTheme('light', localStorage, false);
    expect(localStorage.getItem(THEME_KEY)).toBeNull();
    toggleTheme();
    expect(theme.value).toBe('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
  });
});

describe('API token storage', () => {
  beforeEach(() => sessionStorage.clear());

  it('keeps the token for this tab and forgets an empty one', () => {
    storeToken('abc', sessionStorage);
    expect(loadToken(sessionStorage)).toBe('abc');
    storeToken('', sessionStorage);
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});
