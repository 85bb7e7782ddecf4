/**
 * Backtest runs: the stored list (`GET /api/backtest/results`), the runs opened so far, and
 * the run this tab started (`POST /api/backtest`), followed through the jobs store. When that
 * job finishes, the list reloads so the new run appears.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { backtestApi, type BacktestApi } from '../lib/backtestApi';
import { useJobsStore } from './jobs';
import type { BacktestBody, BacktestResult, BacktestRunSummary } from '../types/backtest';

export const useBacktestsStore = defineStore('backtests', () => {
  const items = shallowRef<readonly BacktestRunSummary[]>([]);
  const total = ref(0);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const runs = shallowRef<ReadonlyMap<string, BacktestResult>>(new Map());
  const jobId = ref<string | null>(null);
  let client: Pick<BacktestApi, 'runs' | 'run' | 'start'> = backtestApi;

  const jobs = useJobsStore();
  const job = computed(() => jobs.get(jobId.value));

  /** Tests pass a fake API. */
  function useApi(fake: Pick<BacktestApi, 'runs' | 'run' | 'start'>): void {
    client = fake;
  }

  async function load(): Promise<void> {
    try {
      const page = await client.runs();
      items.value = Object.freeze([...page.items]);
      total.value = page.total;
      error.value = null;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loaded.value = true;
    }
  }

  /** One run whole (cached: a stored run never changes). */
  async function loadRun(id: string): Promise<BacktestResult> {
    const held = runs.value.get(id);
    if (held) return held;
    const run = Object.freeze(await client.run(id));
    runs.value = new Map(runs.value).set(id, run);
    return run;
  }

  /** Start a backtest; its job is then followed live. Raises `ApiError` on refusal. */
  async function start(body: BacktestBody, token: string): Promise<string> {
    const started = await client.start(body, token);
    jobs.ingestJob(started);
    jobId.value = started.job_id;
    return started.job_id;
  }

  watch(
    () => job.value?.status,
    (status) => {
      if (status === 'done') void load();
    },
  );

  return { items, total, loaded, error, runs, jobId, job, useApi, load, loadRun, start };
});
