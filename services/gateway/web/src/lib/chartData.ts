/**
 * Turns the analysis endpoint's arrays into lightweight-charts series data. Pure, so the
 * alignment rules are tested: every indicator point sits on its bar's time, and a value
 * still warming up (null) becomes whitespace rather than a zero that would distort the scale.
 */
import type {
  CandlestickData,
  HistogramData,
  LineData,
  SeriesMarker,
  UTCTimestamp,
  WhitespaceData,
} from 'lightweight-charts';
import type { OhlcvBar, SignalRow } from '../types/api';

export const toTime = (iso: string): UTCTimestamp => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

export function candleData(bars: readonly OhlcvBar[]): CandlestickData<UTCTimestamp>[] {
  return bars.map((b) => ({ time: toTime(b.ts), open: b.open, high: b.high, low: b.low, close: b.close }));
}

export function volumeData(
  bars: readonly OhlcvBar[],
  upColor: string,
  downColor: string,
): HistogramData<UTCTimestamp>[] {
  return bars.map((b) => ({
    time: toTime(b.ts),
    value: b.volume,
    color: b.close >= b.open ? upColor : downColor,
  }));
}

export type Point = LineData<UTCTimestamp> | WhitespaceData<UTCTimestamp>;

/**
 * One point per bar: the value, or whitespace where it is null or missing. `color` may give a
 * per-point colour (e.g. Supertrend by direction).
 */
export function lineData(
  bars: readonly OhlcvBar[],
  values: readonly (number | null)[] | undefined,
  color?: (index: number) => string | undefined,
): Point[] {
  return bars.map((b, i) => {
    const time = toTime(b.ts);
    const value = values?.[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) return { time };
    const c = color?.(i);
    return c ? { time, value, color: c } : { time, value };
  });
}

export function histogramData(
  bars: readonly OhlcvBar[],
  values: readonly (number | null)[] | undefined,
  upColor: string,
  downColor: string,
): (HistogramData<UTCTimestamp> | WhitespaceData<UTCTimestamp>)[] {
  return bars.map((b, i) => {
    const time = toTime(b.ts);
    const value = values?.[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) return { time };
    return { time, value, color: value >= 0 ? upColor : downColor };
  });
}

export interface MarkerColors {
  confirmed: string;
  rejected: string;
}

/** An arrow under each bar where a signal fired, sorted by time; signals off the chart are left out. */
export function signalMarkers(
  signals: readonly SignalRow[],
  bars: readonly OhlcvBar[],
  colors: MarkerColors,
): SeriesMarker<UTCTimestamp>[] {
  const times = new Set(bars.map((b) => toTime(b.ts)));
  return signals
    .map((s) => ({ signal: s, time: toTime(s.ts) }))
    .filter(({ time }) => times.has(time))
    .sort((a, b) => a.time - b.time)
    .map(({ signal, time }) => ({
      time,
      position: 'belowBar' as const,
      shape: 'arrowUp' as const,
      color: signal.status === 'confirmed' ? colors.confirmed : colors.rejected,
      text: signal.status === 'confirmed' ? signal.setup : `${signal.setup} ✗`,
      id: signal.id,
    }));
}

export interface TradeLevels {
  signalId: string;
  entry: number;
  stop: number;
  target: number;
}

/** Entry, stop and target of the latest signal that has them (a confirmed one). */
export function latestLevels(signals: readonly SignalRow[], latest: SignalRow | null): TradeLevels | null {
  const candidates = latest ? [latest, ...signals] : [...signals];
  const withLevels = candidates.filter(
    (s): s is SignalRow & { entry: number; stop: number; target: number } =>
      s.entry !== null && s.stop !== null && s.target !== null,
  );
  if (withLevels.length === 0) return null;
  const newest = withLevels.reduce((a, b) => (b.ts > a.ts ? b : a));
  return { signalId: newest.id, entry: newest.entry, stop: newest.stop, target: newest.target };
}

/** Whether a live bar can be applied: the chart only updates its last bar or appends newer ones. */
export function canApplyLiveBar(lastTime: number | null, barTime: number): boolean {
  return lastTime === null || barTime >= lastTime;
}

/**
 * The loaded bars with the live ones applied since: a live bar replaces the loaded bar of the
 * same time or is appended after the last one. Used to redraw (e.g. on a theme change)
 * without losing what arrived live.
 */
export function mergeLiveBars(loaded: readonly OhlcvBar[], live: ReadonlyMap<number, OhlcvBar>): OhlcvBar[] {
  if (live.size === 0) return [...loaded];
  const byTime = new Map<number, OhlcvBar>(loaded.map((b) => [toTime(b.ts), b]));
  for (const [time, bar] of live) byTime.set(time, bar);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, bar]) => bar);
}
