/**
 * The ML models: the registry's list (`GET /api/ml/models`), the details opened so far, and
 * the training this tab started (`POST /api/ml/train`), followed through the jobs store.
 * A finished training, or a `model_updated` announcement, reloads the list.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { mlApi, type MlApi } from '../lib/mlApi';
import { useJobsStore } from './jobs';
import type { MlModelDetail, MlModelSummary, TrainBody } from '../types/ml';

export const useModelsStore = defineStore('models', () => {
  const items = shallowRef<readonly MlModelSummary[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const details = shallowRef<ReadonlyMap<string, MlModelDetail>>(new Map());
  const trainingJobId = ref<string | null>(null);
  let client: Pick<MlApi, 'models' | 'model' | 'train'> = mlApi;

  const jobs = useJobsStore();
  const training = computed(() => jobs.get(trainingJobId.value));
  const promoted = computed(() => items.value.find((m) => m.promoted) ?? null);

  /** Tests pass a fake API. */
  function useApi(fake: Pick<MlApi, 'models' | 'model' | 'train'>): void {
    client = fake;
  }

  async function load(): Promise<void> {
    try {
      const page = await client.models();
      items.value = Object.freeze([...page.items]);
      error.value = null;
      // a model's promoted flag may have changed: drop the cached details of those that did
      const next = new Map(details.value);
      for (const item of page.items) {
        const held = next.get(item.version);
        if (held && held.promoted !== item.promoted) next.delete(item.version);
      }
      details.value = next;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loaded.value = true;
    }
  }

  async function loadDetail(version: string): Promise<MlModelDetail> {
    const held = details.value.get(version);
    if (held) return held;
    const detail = Object.freeze(await client.model(version));
    details.value = new Map(details.value).set(version, detail);
    return detail;
  }

  /** Start a training; its job is then followed live. Raises `ApiError` on refusal. */
  async function train(body: TrainBody, token: string): Promise<string> {
    const job = await client.train(body, token);
    jobs.ingestJob(job);
    trainingJobId.value = job.job_id;
    return job.job_id;
  }

  return { items, loaded, error, details, trainingJobId, training, promoted, useApi, load, loadDetail, train };
});
