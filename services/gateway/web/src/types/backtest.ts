/**
 * Backtest runs as the gateway serves them (`/api/backtest/...`, docs/api.md): the shapes of
 * `swingflow_common.backtest.result` and the repository's run summary.
 */
import type { Page } from './api';

export type Metrics = Record<string, number | null>;
export type ExitReason = 'stop' | 'target' | 'time' | 'exit_signal' | 'end_of_data';

export interface BacktestRunSummary {
  id: string;
  mode: 'pipeline' | 'signals';
  dataset: string;
  symbols: string[];
  start: string;
  end: string;
  created_at: string;
  initial_cash: number;
  trade_count: number;
  walk_forward_windows: number;
  metrics: Metrics;
}

export type BacktestRunPage = Page<BacktestRunSummary>;

export interface BacktestTrade {
  seq: number;
  symbol: string;
  setup: string;
  signal_id: string | null;
  signal_ts: string;
  entry_ts: string;
  entry_price: number;
  exit_ts: string;
  exit_price: number;
  exit_reason: ExitReason;
  quantity: number;
  stop: number | null;
  target: number | null;
  fees: number;
  slippage: number;
  pnl: number;
  return_pct: number;
  r_multiple: number | null;
  bars_held: number;
  base_signal: number | null;
  confirmation: number | null;
  ml_confidence: number | null;
  entry_timing: number | null;
  total: number | null;
}

export interface EquityPoint {
  day: string;
  equity: number;
  cash: number;
  exposure: number;
  benchmark: number;
}

export interface WindowResult {
  index: number;
  in_sample_start: string;
  in_sample_end: string;
  out_of_sample_start: string;
  out_of_sample_end: string;
  in_sample: Metrics;
  out_of_sample: Metrics;
}

export interface BacktestResult {
  id: string;
  mode: 'pipeline' | 'signals';
  dataset: string;
  symbols: string[];
  start: string;
  end: string;
  created_at: string;
  config: Record<string, unknown>;
  initial_cash: number;
  trades: BacktestTrade[];
  equity: EquityPoint[];
  metrics: Metrics;
  by_symbol: Record<string, Metrics>;
  by_setup: Record<string, Metrics>;
  by_exit_reason: Record<string, Metrics>;
  monthly: Record<string, number>;
  walk_forward: WindowResult[];
  candidates: number;
  confirmed: number;
  rejected: Record<string, number>;
}

/** The body of `POST /api/backtest`. */
export interface BacktestBody {
  universe?: string;
  start?: string;
  end?: string;
  symbols?: string[];
  in_sample_bars?: number;
  out_of_sample_bars?: number;
}
