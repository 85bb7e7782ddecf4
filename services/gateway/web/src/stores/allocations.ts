/**
 * Allocation history (REST page plus live `allocation` messages, merged by id, newest first,
 * capped) and recent fills. `changes` counts live portfolio events so the Portfolio page
 * knows when its cash and positions are stale.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { api } from '../lib/api';
import type { AllocationsPage } from '../types/api';
import type { Allocation, Fill } from '../types/messages';

export const ALLOCATIONS_CAP = 500;
export const FILLS_CAP = 200;

export type AllocationsFetcher = (params: { limit: number; offset: number }) => Promise<AllocationsPage>;

const newestFirst = (a: { ts: string; id: string }, b: { ts: string; id: string }): number =>
  a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : a.id.localeCompare(b.id);

export const useAllocationsStore = defineStore('allocations', () => {
  const items = shallowRef<readonly Allocation[]>([]);
  const fills = shallowRef<readonly Fill[]>([]);
  const serverTotal = ref<number | null>(null);
  const changes = ref(0);
  const loading = ref(false);
  const error = ref<string | null>(null);

  function merge(incoming: readonly Allocation[]): void {
    const byId = new Map(items.value.map((a) => [a.id, a]));
    for (const allocation of incoming) byId.set(allocation.id, allocation);
    items.value = Object.freeze([...byId.values()].sort(newestFirst).slice(0, ALLOCATIONS_CAP));
  }

  function ingestAllocation(allocation: Allocation): void {
    merge([allocation]);
    changes.value += 1;
  }

  function ingestFill(fill: Fill): void {
    const rest = fills.value.filter((f) => f.id !== fill.id);
    fills.value = Object.freeze([fill, ...rest].sort(newestFirst).slice(0, FILLS_CAP));
    changes.value += 1;
  }

  async function load(limit = 200, fetcher: AllocationsFetcher = api.allocations): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const page = await fetcher({ limit, offset: 0 });
      serverTotal.value = page.total;
      merge(page.items);
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.value = false;
    }
  }

  return { items, fills, serverTotal, changes, loading, error, ingestAllocation, ingestFill, load };
});
