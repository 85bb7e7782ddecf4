import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { backtestBody, breakdownColumns, compareMetrics, drawdowns, formatMetric } from '../../src/lib/backtest';
import { useBacktestsStore } from '../../src/stores/backtests';
import { useJobsStore } from '../../src/stores/jobs';
import type { BacktestResult, BacktestRunSummary } from '../../src/types/backtest';
import type { JobProgress } from '../../src/types/messages';

function summary(id: string, ret = 0.1): BacktestRunSummary {
  return {
    id, mode: 'pipeline', dataset: 'synthetic', symbols: ['SYN0001'], start: '2024-01-02', end: '2024-03-01',
    created_at: '2024-03-05T12:00:00Z', initial_cash: 100000, trade_count: 3, walk_forward_windows: 0,
    metrics: { total_return: ret, sharpe: 1.2 },
  };
}

function result(id: string): BacktestResult {
  return {
    ...summary(id), config: {}, trades: [], equity: [], by_symbol: {}, by_setup: {}, by_exit_reason: {},
    monthly: {}, walk_forward: [], candidates: 4, confirmed: 3, rejected: {},
  } as unknown as BacktestResult;
}

function job(status: JobProgress['status'], extra: Partial<JobProgress> = {}): JobProgress {
  return {
    schema_version: 1, type: 'job_progress', job_id: 'job-1', kind: 'backtest', stage: '', done: 0, total: 0,
    status, result_id: null, error: null, ts_event: '2024-03-05T12:00:00Z', ...extra,
  };
}

describe('backtest figures', () => {
  it('shows fractions as percentages, counts whole, undefined as n/a', () => {
    expect(formatMetric('total_return', 0.1234)).toBe('12.34%');
    expect(formatMetric('max_drawdown', -0.05)).toBe('-5.00%');
    expect(formatMetric('trades', 120)).toBe('120');
    expect(formatMetric('sharpe', 1.23456)).toBe('1.235');
    expect(formatMetric('profit_factor', null)).toBe('n/a');
  });

  it('measures drawdown from the running peak', () => {
    const dd = drawdowns([{ equity: 100 }, { equity: 120 }, { equity: 90 }, { equity: 130 }]);
    expect(dd).toEqual([0, 0, -0.25, 0]);
  });

  it('compares two runs figure by figure, headline first, with b - a', () => {
    const rows = compareMetrics({ sharpe: 1, total_return: 0.1, zeta: 2 }, { sharpe: 1.5, total_return: null });
    expect(rows.map((r) => r.name)).toEqual(['total_return', 'sharpe', 'zeta']);
    expect(rows[1]).toEqual({ name: 'sharpe', a: 1, b: 1.5, diff: 0.5 });
    expect(rows[0]?.diff).toBeNull();
    expect(rows[2]?.b).toBeNull();
  });

  it('lists every figure of a breakdown once', () => {
    expect(breakdownColumns({ a: { trades: 1, win_rate: 1 }, b: { trades: 2, net_profit: 3 } })).toEqual([
      'trades', 'win_rate', 'net_profit',
    ]);
  });

  it('builds the request body from the form, leaving blanks to the server', () => {
    const base = { universe: ' sp500-2010 ', start: '', end: '2010-06-30', symbols: 'aapl, msft', inSample: '', outOfSample: '' };
    expect(backtestBody(base)).toEqual({ universe: 'sp500-2010', end: '2010-06-30', symbols: ['AAPL', 'MSFT'] });
    expect(backtestBody({ ...base, symbols: '', inSample: '120', outOfSample: '40' })).toMatchObject({
      in_sample_bars: 120, out_of_sample_bars: 40,
    });
  });
});

describe('backtests store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('follows the job it started and reloads the list when it is done', async () => {
    const pages = [[summary('bt-1')], [summary('bt-2'), summary('bt-1')]];
    const calls: string[] = [];
    const store = useBacktestsStore();
    store.useApi({
      runs: async () => {
        calls.push('runs');
        const items = pages[Math.min(calls.filter((c) => c === 'runs').length - 1, 1)] ?? [];
        return { items, total: items.length, limit: 100, offset: 0 };
      },
      run: async (id: string) => {
        calls.push(`run ${id}`);
        return result(id);
      },
      start: async (body, token) => {
        calls.push(`start ${JSON.stringify(body)} ${token}`);
        return job('queued');
      },
    });
    await store.load();
    expect(store.items.map((r) => r.id)).toEqual(['bt-1']);

    await store.start({ universe: 'synthetic:2x300' }, 'tok');
    expect(store.job?.status).toBe('queued');
    const jobs = useJobsStore();
    jobs.ingestJob(job('running', { stage: 'simulate', done: 5, total: 10, ts_event: '2024-03-05T12:00:01Z' }));
    expect(store.job?.done).toBe(5);
    jobs.ingestJob(job('done', { result_id: 'bt-2', ts_event: '2024-03-05T12:00:02Z' }));
    await nextTick();
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(store.items.map((r) => r.id)).toEqual(['bt-2', 'bt-1']);

    await store.loadRun('bt-2');
    await store.loadRun('bt-2');
    expect(calls).toEqual(['runs', 'start {"universe":"synthetic:2x300"} tok', 'runs', 'run bt-2']);
  });
});
