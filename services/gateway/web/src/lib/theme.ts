/**
 * Light and dark themes: the user's choice is remembered in localStorage; without one, the
 * system's `prefers-color-scheme` decides. The theme is the `data-theme` attribute on <html>,
 * which the CSS variables (and the chart colours) follow.
 */
import { ref } from 'vue';

export type Theme = 'light' | 'dark';
export const THEME_KEY = 'swingflow.theme';

function stored(storage: Storage | undefined): Theme | null {
  try {
    const value = storage?.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

/** The theme to start with: the remembered one, else the system preference. */
export function initialTheme(
  storage: Storage | undefined = globalThis.localStorage,
  prefersDark: boolean = globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false,
): Theme {
  return stored(storage) ?? (prefersDark ? 'dark' : 'light');
}

export const theme = ref<Theme>('light');

export function applyTheme(value: Theme, storage: Storage | undefined = globalThis.localStorage, remember = true): void {
  theme.value = value;
  document.documentElement.dataset.theme = value;
  if (remember) {
    try {
      storage?.setItem(THEME_KEY, value);
    } catch {
      // storage may be disabled; the theme still applies for this visit
    }
  }
}

export function toggleTheme(): void {
  applyTheme(theme.value === 'dark' ? 'light' : 'dark');
}

/** Reads a CSS variable of the current theme (for the chart, which cannot use CSS). */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
