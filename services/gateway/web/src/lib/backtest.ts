/**
 * Pure helpers of the Backtests page: figures in their units, the drawdown curve, the
 * side-by-side comparison of two runs, and the form turned into a request body.
 */
import type { BacktestBody, EquityPoint, Metrics } from '../types/backtest';

/** Figures that are fractions (0.05 = 5 %), as in swingflow_common.backtest.report. */
export const PERCENT_METRICS: ReadonlySet<string> = new Set([
  'total_return', 'cagr', 'return_ann', 'volatility', 'max_drawdown', 'avg_drawdown',
  'exposure', 'exposure_time', 'buy_and_hold_return', 'alpha', 'probabilistic_sharpe',
  'best_day', 'worst_day', 'win_rate', 'avg_trade_return', 'geo_avg_trade_return',
  'best_trade', 'worst_trade', 'kelly', 'return_pct',
]);

/** The figures the run list and the comparison show first. */
export const HEADLINE: readonly string[] = [
  'total_return', 'cagr', 'sharpe', 'sortino', 'max_drawdown', 'trades', 'win_rate',
  'profit_factor', 'expectancy', 'sqn', 'buy_and_hold_return',
];

export function formatMetric(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return 'n/a';
  if (!Number.isFinite(value)) return String(value);
  if (PERCENT_METRICS.has(name)) return `${(value * 100).toFixed(2)}%`;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e4
    ? value.toLocaleString('en-US', { maximumFractionDigits: 2 })
    : Number(value.toPrecision(4)).toString();
}

/** Each day's equity below its running peak, as a fraction (0 at a new high). */
export function drawdowns(equity: readonly Pick<EquityPoint, 'equity'>[]): number[] {
  let peak = -Infinity;
  return equity.map((p) => {
    peak = Math.max(peak, p.equity);
    return peak > 0 ? p.equity / peak - 1 : 0;
  });
}

export interface CompareRow {
  name: string;
  a: number | null;
  b: number | null;
  /** b - a, when both are numbers. */
  diff: number | null;
}

/** Every figure of either run, headline figures first, with the difference b - a. */
export function compareMetrics(a: Metrics, b: Metrics): CompareRow[] {
  const names = [...new Set([...HEADLINE, ...Object.keys(a), ...Object.keys(b)])].filter(
    (n) => n in a || n in b,
  );
  return names.map((name) => {
    const x = a[name] ?? null;
    const y = b[name] ?? null;
    return { name, a: x, b: y, diff: x !== null && y !== null ? y - x : null };
  });
}

/** The columns of a breakdown table (union of the groups' figures, first seen first). */
export function breakdownColumns(groups: Record<string, Metrics>): string[] {
  const seen = new Set<string>();
  for (const figures of Object.values(groups)) for (const key of Object.keys(figures)) seen.add(key);
  return [...seen];
}

export interface BacktestForm {
  universe: string;
  start: string;
  end: string;
  symbols: string;
  inSample: string;
  outOfSample: string;
}

/** The request body: blank fields are left out (the server's defaults apply). */
export function backtestBody(form: BacktestForm): BacktestBody {
  const body: BacktestBody = {};
  if (form.universe.trim()) body.universe = form.universe.trim();
  if (form.start) body.start = form.start;
  if (form.end) body.end = form.end;
  const symbols = form.symbols
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  if (symbols.length) body.symbols = symbols;
  if (form.inSample.trim() || form.outOfSample.trim()) {
    body.in_sample_bars = Number(form.inSample);
    body.out_of_sample_bars = Number(form.outOfSample);
  }
  return body;
}
