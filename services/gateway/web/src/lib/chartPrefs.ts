/**
 * Which overlays and panes the user wants on the price chart, remembered across visits.
 */
export const OVERLAYS = ['sma_20', 'sma_50', 'sma_200', 'bollinger', 'supertrend'] as const;
export const PANES = ['rsi', 'macd'] as const;
export type Overlay = (typeof OVERLAYS)[number];
export type Pane = (typeof PANES)[number];

export interface ChartPrefs {
  overlays: Overlay[];
  panes: Pane[];
}

export const DEFAULT_PREFS: ChartPrefs = { overlays: ['sma_50', 'sma_200'], panes: ['rsi'] };
export const PREFS_KEY = 'swingflow.chart';

/** The indicator arrays each choice needs from the analysis endpoint. */
export const NEEDS: Record<Overlay | Pane, readonly string[]> = {
  sma_20: ['sma_20'],
  sma_50: ['sma_50'],
  sma_200: ['sma_200'],
  bollinger: ['bb_upper', 'bb_middle', 'bb_lower'],
  supertrend: ['supertrend', 'supertrend_dir'],
  rsi: ['rsi_14'],
  macd: ['macd', 'macd_signal', 'macd_hist'],
};

export const LABELS: Record<Overlay | Pane, string> = {
  sma_20: 'SMA 20',
  sma_50: 'SMA 50',
  sma_200: 'SMA 200',
  bollinger: 'Bollinger',
  supertrend: 'Supertrend',
  rsi: 'RSI',
  macd: 'MACD',
};

export function loadPrefs(storage: Storage | undefined = globalThis.localStorage): ChartPrefs {
  try {
    const raw: unknown = JSON.parse(storage?.getItem(PREFS_KEY) ?? 'null');
    if (typeof raw !== 'object' || raw === null) return { ...DEFAULT_PREFS };
    const { overlays, panes } = raw as { overlays?: unknown; panes?: unknown };
    return {
      overlays: Array.isArray(overlays) ? OVERLAYS.filter((o) => overlays.includes(o)) : [...DEFAULT_PREFS.overlays],
      panes: Array.isArray(panes) ? PANES.filter((p) => panes.includes(p)) : [...DEFAULT_PREFS.panes],
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function savePrefs(prefs: ChartPrefs, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // not remembered, still applied
  }
}

/** Whether the analysis answer holds every array a choice needs. */
export function available(choice: Overlay | Pane, indicators: Record<string, unknown>): boolean {
  return NEEDS[choice].every((key) => Array.isArray(indicators[key]));
}
