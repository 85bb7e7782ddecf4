import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS } from '../../src/lib/filters';
import { LOAD_CAP, useSignalsStore } from '../../src/stores/signals';
import type { Params } from '../../src/lib/api';
import type { SignalRow, SignalsPage } from '../../src/types/api';
import { candidate, confirmed, row } from './factories';

const ids = (store: ReturnType<typeof useSignalsStore>): string[] => store.ranked.map((v) => v.id);

describe('signals store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('merges a REST row and the live confirmation of the same id into one row', () => {
    const store = useSignalsStore();
    store.mergeRows([row('AAPL', '2024-05-01', 0.55, 'rejected')]);
    store.ingestConfirmed(confirmed('AAPL', '2024-05-01', 0.72));
    store.flush();
    expect(store.ranked).toHaveLength(1);
    expect(store.ranked[0]?.status).toBe('confirmed');
    expect(store.ranked[0]?.total).toBe(0.72);
  });

  it('does not let a late candidate message downgrade an evaluated signal', () => {
    const store = useSignalsStore();
    store.ingestConfirmed(confirmed('MSFT', '2024-05-02', 0.8));
    store.flush();
    store.ingestCandidate(candidate('MSFT', '2024-05-02'));
    store.flush();
    expect(store.ranked.map((v) => v.status)).toEqual(['confirmed']);
  });

  it('applies live messages only at the frame flush, all at once', () => {
    const store = useSignalsStore();
    const before = store.ranked;
    for (let i = 0; i < 50; i += 1) store.ingestCandidate(candidate(`S${i}`, '2024-05-03'));
    expect(store.ranked).toBe(before);
    store.flush();
    expect(store.ranked).toHaveLength(50);
  });

  it('ranks evaluated signals by total, then live candidates by base score', () => {
    const store = useSignalsStore();
    store.mergeRows([row('LOW', '2024-05-01', 0.3), row('HIGH', '2024-05-01', 0.9, 'confirmed')]);
    store.ingestCandidate(candidate('WEAK', '2024-05-02', 'breakout', 0.4));
    store.ingestCandidate(candidate('STRONG', '2024-05-02', 'breakout', 0.95));
    store.ingestConfirmed(confirmed('MID', '2024-05-02', 0.6));
    store.flush();
    expect(store.ranked.map((v) => v.symbol)).toEqual(['HIGH', 'MID', 'LOW', 'STRONG', 'WEAK']);
  });

  it('keeps the ranking when a live update raises a row', () => {
    const store = useSignalsStore();
    store.mergeRows([row('A', '2024-05-01', 0.5), row('B', '2024-05-01', 0.7)]);
    expect(store.ranked.map((v) => v.symbol)).toEqual(['B', 'A']);
    store.ingestConfirmed(confirmed('A', '2024-05-01', 0.9));
    store.flush();
    expect(store.ranked.map((v) => v.symbol)).toEqual(['A', 'B']);
  });

  it('re-sorts newest first on request', () => {
    const store = useSignalsStore();
    store.mergeRows([row('OLD', '2024-04-01', 0.9), row('NEW', '2024-05-01', 0.2)]);
    store.setSort('newest');
    expect(store.ranked.map((v) => v.symbol)).toEqual(['NEW', 'OLD']);
  });

  it('forgets the oldest bars once over its cap', () => {
    const store = useSignalsStore();
    store.cap = 3;
    store.mergeRows([
      row('D1', '2024-05-01', 0.9),
      row('D2', '2024-05-02', 0.1),
      row('D3', '2024-05-03', 0.5),
    ]);
    store.ingestCandidate(candidate('D4', '2024-05-04'));
    store.flush();
    expect(store.ranked).toHaveLength(3);
    expect(store.ranked.map((v) => v.symbol).sort()).toEqual(['D2', 'D3', 'D4']);
    expect(store.get(row('D1', '2024-05-01', 0.9).id)).toBeUndefined();
  });

  it('publishes frozen rows in a frozen array so Vue never deep-proxies them', () => {
    const store = useSignalsStore();
    store.mergeRows([row('A', '2024-05-01', 0.5)]);
    expect(Object.isFrozen(store.ranked)).toBe(true);
    expect(Object.isFrozen(store.ranked[0])).toBe(true);
  });

  it('lists the setups it has seen, sorted', () => {
    const store = useSignalsStore();
    store.mergeRows([row('A', '2024-05-01', 0.5, 'rejected', 'squeeze'), row('B', '2024-05-01', 0.5, 'rejected', 'breakout')]);
    expect(store.setups).toEqual(['breakout', 'squeeze']);
  });
});

describe('signals store loading', () => {
  beforeEach(() => setActivePinia(createPinia()));

  function fakeServer(rows: SignalRow[], maxLimit = 10_000) {
    const calls: Params[] = [];
    const fetcher = async (params: Params): Promise<SignalsPage> => {
      calls.push(params);
      const limit = Math.min(Number(params.limit), maxLimit);
      const offset = Number(params.offset);
      return { items: rows.slice(offset, offset + limit), total: rows.length, limit, offset };
    };
    return { calls, fetcher };
  }

  const many = (n: number): SignalRow[] =>
    Array.from({ length: n }, (_, i) => row(`S${String(i).padStart(4, '0')}`, '2024-05-01', (i % 100) / 100));

  it('pages through the API up to its load cap and passes the server-side filters', async () => {
    const store = useSignalsStore();
    const server = fakeServer(many(1500));
    await store.load({ ...DEFAULT_FILTERS, status: 'rejected', minScore: 0.2 }, server.fetcher);
    expect(store.ranked).toHaveLength(LOAD_CAP);
    expect(store.serverTotal).toBe(1500);
    expect(server.calls.every((c) => c.status === 'rejected' && c.min_score === '0.2')).toBe(true);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 500]);
  });

  it('follows the offsets the server actually served when it caps the page size', async () => {
    const store = useSignalsStore();
    const server = fakeServer(many(250), 100);
    await store.load(DEFAULT_FILTERS, server.fetcher);
    expect(store.ranked).toHaveLength(250);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 100, 200]);
  });

  it('does not ask the API for live-only candidates', async () => {
    const store = useSignalsStore();
    const server = fakeServer(many(5));
    await store.load({ ...DEFAULT_FILTERS, status: 'candidate' }, server.fetcher);
    expect(server.calls).toHaveLength(0);
    expect(store.loading).toBe(false);
  });

  it('shows the error of a failed load and keeps the rows it had', async () => {
    const store = useSignalsStore();
    store.mergeRows([row('A', '2024-05-01', 0.5)]);
    await store.load(DEFAULT_FILTERS, async () => {
      throw new Error('HTTP 500: boom');
    });
    expect(store.error).toBe('HTTP 500: boom');
    expect(ids(store)).toHaveLength(1);
  });

  it('drops the answer of a load overtaken by a newer one', async () => {
    const store = useSignalsStore();
    let release: (page: SignalsPage) => void = () => undefined;
    const slow = () => new Promise<SignalsPage>((resolve) => (release = resolve));
    const first = store.load(DEFAULT_FILTERS, slow);
    const second = store.load({ ...DEFAULT_FILTERS, symbol: 'B' }, async () => ({
      items: [row('B', '2024-05-01', 0.4)],
      total: 1,
      limit: 500,
      offset: 0,
    }));
    await second;
    release({ items: [row('STALE', '2024-05-01', 0.9)], total: 1, limit: 500, offset: 0 });
    await first;
    expect(store.ranked.map((v) => v.symbol)).toEqual(['B']);
    expect(store.serverTotal).toBe(1);
  });
});
