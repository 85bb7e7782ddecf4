/**
 * Every signal the dashboard knows: REST rows and live messages merged by id, kept ranked.
 *
 * Built for a fast stream: live messages are queued and merged once per animation frame;
 * rows live in a plain Map and are published as one frozen, shallow array (`ranked`), so Vue
 * never walks or proxies the rows; memory is capped by forgetting the oldest bars.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { api, type Params } from '../lib/api';
import { createBatcher } from '../lib/batch';
import { signalsApiParams, type SignalFilters } from '../lib/filters';
import {
  comparators,
  evictionVictims,
  fromCandidate,
  fromConfirmed,
  fromRow,
  mergeSignal,
  type SignalView,
  type SortKey,
} from '../lib/signals';
import type { SignalRow, SignalsPage } from '../types/api';
import type { CandidateSignal, ConfirmedSignal } from '../types/messages';

/** Rows kept in memory at most. */
export const SIGNALS_CAP = 2000;
/** Rows fetched at most per filter change, in pages of `FETCH_PAGE`. */
export const LOAD_CAP = 1000;
export const FETCH_PAGE = 500;

export type SignalsFetcher = (params: Params, signal?: AbortSignal) => Promise<SignalsPage>;

export const useSignalsStore = defineStore('signals', () => {
  const rows = new Map<string, SignalView>();
  let seq = 0;

  const ranked = shallowRef<readonly SignalView[]>(Object.freeze([]));
  const sort = ref<SortKey>('score');
  const cap = ref(SIGNALS_CAP);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** The server's count of rows matching the last loaded filters. */
  const serverTotal = ref<number | null>(null);
  const setups = shallowRef<readonly string[]>([]);
  let loadController: AbortController | null = null;

  function publish(): void {
    for (const victim of evictionVictims(rows.values(), cap.value)) rows.delete(victim.id);
    const list = [...rows.values()].sort(comparators[sort.value]);
    ranked.value = Object.freeze(list);
    const names = [...new Set(list.map((v) => v.setup))].sort();
    if (names.join('\n') !== setups.value.join('\n')) setups.value = Object.freeze(names);
  }

  function apply(views: Iterable<SignalView>): void {
    for (const view of views) rows.set(view.id, mergeSignal(rows.get(view.id), view));
    publish();
  }

  const live = createBatcher<SignalView>((views) => apply(views));

  function ingestCandidate(message: CandidateSignal): void {
    live.push(fromCandidate(message, seq++));
  }

  function ingestConfirmed(message: ConfirmedSignal): void {
    live.push(fromConfirmed(message, seq++));
  }

  function mergeRows(items: readonly SignalRow[]): void {
    apply(items.map((row) => fromRow(row, seq++)));
  }

  function setSort(key: SortKey): void {
    if (sort.value === key) return;
    sort.value = key;
    publish();
  }

  /**
   * Fetches the rows matching the server-side filters (up to `LOAD_CAP`, newest first) and
   * merges them in. A newer load cancels an older one still running.
   */
  async function load(filters: SignalFilters, fetcher: SignalsFetcher = api.signals): Promise<void> {
    loadController?.abort();
    const controller = new AbortController();
    loadController = controller;
    loading.value = true;
    error.value = null;
    try {
      if (filters.status === 'candidate') {
        serverTotal.value = null; // candidates exist only live; the API stores evaluations
        return;
      }
      const base = signalsApiParams(filters);
      let offset = 0;
      let total = Infinity;
      while (offset < Math.min(total, LOAD_CAP)) {
        const limit = Math.min(FETCH_PAGE, LOAD_CAP - offset);
        const page = await fetcher({ ...base, limit, offset }, controller.signal);
        if (controller.signal.aborted) return;
        total = page.total;
        serverTotal.value = page.total;
        if (page.items.length === 0) break;
        mergeRows(page.items);
        offset += page.items.length;
      }
    } catch (err) {
      if (!controller.signal.aborted) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (loadController === controller) {
        loading.value = false;
        loadController = null;
      }
    }
  }

  function get(id: string): SignalView | undefined {
    return rows.get(id);
  }

  return {
    ranked,
    sort,
    cap,
    loading,
    error,
    serverTotal,
    setups,
    ingestCandidate,
    ingestConfirmed,
    mergeRows,
    setSort,
    load,
    get,
    flush: live.flush,
  };
});
