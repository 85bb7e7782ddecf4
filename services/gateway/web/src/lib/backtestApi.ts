/** Calls to the gateway's backtest API (docs/api.md); failures raise `ApiError` like `api.ts`. */
import { requestJson, withParams } from './api';
import type { JobProgress } from '../types/messages';
import type { BacktestBody, BacktestResult, BacktestRunPage } from '../types/backtest';

export const backtestApi = {
  runs: (limit = 100, offset = 0) =>
    requestJson<BacktestRunPage>(withParams('/api/backtest/results', { limit, offset })),
  run: (id: string) => requestJson<BacktestResult>(`/api/backtest/runs/${encodeURIComponent(id)}`),
  start: (body: BacktestBody, token: string) =>
    requestJson<JobProgress>('/api/backtest', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }),
};

export type BacktestApi = typeof backtestApi;

export function tradesCsvUrl(id: string): string {
  return `/api/backtest/runs/${encodeURIComponent(id)}/trades.csv`;
}

export function reportUrl(id: string): string {
  return `/api/backtest/runs/${encodeURIComponent(id)}/report.html`;
}
