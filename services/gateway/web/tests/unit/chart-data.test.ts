import { describe, expect, it } from 'vitest';
import {
  canApplyLiveBar,
  candleData,
  histogramData,
  latestLevels,
  lineData,
  mergeLiveBars,
  signalMarkers,
  toTime,
} from '../../src/lib/chartData';
import { available, loadPrefs, savePrefs, DEFAULT_PREFS } from '../../src/lib/chartPrefs';
import type { OhlcvBar } from '../../src/types/api';
import { row } from './factories';

const bars: OhlcvBar[] = ['2024-05-01', '2024-05-02', '2024-05-03'].map((d, i) => ({
  ts: `${d}T00:00:00Z`,
  open: 100 + i,
  high: 102 + i,
  low: 99 + i,
  close: 101 + i,
  volume: 1000 * (i + 1),
}));

describe('chart data', () => {
  it('puts each bar at its UTC second', () => {
    expect(toTime('2024-05-01T00:00:00Z')).toBe(Date.UTC(2024, 4, 1) / 1000);
    expect(candleData(bars).map((c) => c.close)).toEqual([101, 102, 103]);
  });

  it('aligns indicators with bars and leaves warm-up values as whitespace', () => {
    const points = lineData(bars, [null, 50.5, 51]);
    expect(points).toHaveLength(3);
    expect(points[0]).toEqual({ time: toTime(bars[0]!.ts) });
    expect(points[1]).toEqual({ time: toTime(bars[1]!.ts), value: 50.5 });
  });

  it('treats a short indicator array as missing values, not as shifted ones', () => {
    const points = lineData(bars, [1]);
    expect(points.map((p) => ('value' in p ? p.value : null))).toEqual([1, null, null]);
  });

  it('colours the MACD histogram by sign', () => {
    const points = histogramData(bars, [-1, 0, 2], 'up', 'down');
    expect(points.map((p) => ('color' in p ? p.color : null))).toEqual(['down', 'up', 'up']);
  });

  it('marks signals that fall on a charted bar, in time order', () => {
    const late = row('A', '2024-05-03', 0.7, 'confirmed', 'breakout');
    const early = row('A', '2024-05-01', 0.4, 'rejected');
    const offChart = row('A', '2023-01-01', 0.9, 'confirmed');
    const markers = signalMarkers([late, offChart, early], bars, { confirmed: 'g', rejected: 'x' });
    expect(markers.map((m) => [m.time, m.color])).toEqual([
      [toTime(early.ts), 'x'],
      [toTime(late.ts), 'g'],
    ]);
  });

  it('takes the trade levels from the newest signal that has them', () => {
    const old = row('A', '2024-04-01', 0.7, 'confirmed');
    const recent = { ...row('A', '2024-05-01', 0.8, 'confirmed'), entry: 120, stop: 115, target: 130 };
    const rejected = row('A', '2024-05-03', 0.3, 'rejected');
    expect(latestLevels([old, recent], rejected)).toEqual({ signalId: recent.id, entry: 120, stop: 115, target: 130 });
    expect(latestLevels([rejected], null)).toBeNull();
  });

  it('applies a live bar only to the last candle or after it', () => {
    expect(canApplyLiveBar(null, 5)).toBe(true);
    expect(canApplyLiveBar(10, 10)).toBe(true);
    expect(canApplyLiveBar(10, 11)).toBe(true);
    expect(canApplyLiveBar(10, 9)).toBe(false);
  });

  it('keeps live bars when the loaded bars are redrawn', () => {
    const updated: OhlcvBar = { ...bars[2]!, close: 110, high: 111 };
    const appended: OhlcvBar = { ...bars[2]!, ts: '2024-05-04T00:00:00Z' };
    const live = new Map([
      [toTime(updated.ts), updated],
      [toTime(appended.ts), appended],
    ]);
    const merged = mergeLiveBars(bars, live);
    expect(merged.map((b) => b.ts.slice(0, 10))).toEqual(['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04']);
    expect(merged[2]?.close).toBe(110);
  });
});

describe('chart preferences', () => {
  it('offers an overlay only when the API sent every array it needs', () => {
    expect(available('bollinger', { bb_upper: [], bb_middle: [], bb_lower: [] })).toBe(true);
    expect(available('bollinger', { bb_upper: [], bb_lower: [] })).toBe(false);
  });

  it('remembers choices and ignores unknown ones', () => {
    savePrefs({ overlays: ['bollinger', 'sma_20'], panes: ['macd'] }, localStorage);
    expect(loadPrefs(localStorage)).toEqual({ overlays: ['sma_20', 'bollinger'], panes: ['macd'] });
    localStorage.setItem('swingflow.chart', '{"overlays":["bogus"],"panes":"x"}');
    expect(loadPrefs(localStorage)).toEqual({ overlays: [], panes: DEFAULT_PREFS.panes });
    localStorage.setItem('swingflow.chart', '{broken');
    expect(loadPrefs(localStorage)).toEqual(DEFAULT_PREFS);
  });
});
