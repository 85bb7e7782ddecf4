import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { ALLOCATIONS_CAP, useAllocationsStore } from '../../src/stores/allocations';
import { allocation, fill } from './factories';

describe('allocations store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('merges the REST page and live allocations by id, newest first', async () => {
    const store = useAllocationsStore();
    await store.load(50, async () => ({
      items: [allocation('a1', 'AAPL', '2024-05-01T00:00:00Z'), allocation('a2', 'MSFT', '2024-05-02T00:00:00Z')],
      total: 2,
      limit: 50,
      offset: 0,
    }));
    store.ingestAllocation(allocation('a3', 'NVDA', '2024-05-03T00:00:00Z'));
    store.ingestAllocation({ ...allocation('a2', 'MSFT', '2024-05-02T00:00:00Z'), quantity: 99 });
    expect(store.items.map((a) => a.id)).toEqual(['a3', 'a2', 'a1']);
    expect(store.items[1]?.quantity).toBe(99);
    expect(store.serverTotal).toBe(2);
  });

  it('marks the portfolio stale on each live allocation or fill', () => {
    const store = useAllocationsStore();
    store.ingestAllocation(allocation('a1', 'AAPL', '2024-05-01T00:00:00Z'));
    store.ingestFill(fill('f1', 'AAPL', '2024-05-01T00:00:01Z'));
    expect(store.changes).toBe(2);
    expect(store.fills.map((f) => f.id)).toEqual(['f1']);
  });

  it('keeps at most its cap of allocations', () => {
    const store = useAllocationsStore();
    for (let i = 0; i < ALLOCATIONS_CAP + 20; i += 1) {
      const ts = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
      store.ingestAllocation(allocation(`a${i}`, 'AAPL', ts));
    }
    expect(store.items).toHaveLength(ALLOCATIONS_CAP);
    expect(store.items[0]?.id).toBe(`a${ALLOCATIONS_CAP + 19}`);
  });

  it('reports a failed load', async () => {
    const store = useAllocationsStore();
    await store.load(50, async () => {
      throw new Error('HTTP 503: database down');
    });
    expect(store.error).toBe('HTTP 503: database down');
    expect(store.loading).toBe(false);
  });
});
