/**
 * The integration weights and confirm threshold in force: loaded from `GET /api/weights`,
 * saved with `PUT /api/weights`, and updated live when anyone changes them
 * (`weights_updated` on the `weights` channel).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../lib/api';
import { STAGES, type StageWeights, type WeightsConfig, type WeightsUpdate } from '../types/api';
import type { WeightsUpdated } from '../types/messages';

export const useWeightsStore = defineStore('weights', () => {
  const config = ref<WeightsConfig | null>(null);
  const error = ref<string | null>(null);
  /** Bumped when the server's values change, so an open form can offer to reload. */
  const revision = ref(0);

  async function load(fetcher: () => Promise<WeightsConfig> = api.weights): Promise<void> {
    error.value = null;
    try {
      config.value = await fetcher();
      revision.value += 1;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  }

  async function save(update: WeightsUpdate, token: string): Promise<WeightsConfig> {
    const saved = await api.putWeights(update, token);
    config.value = saved;
    revision.value += 1;
    return saved;
  }

  function ingestUpdate(message: WeightsUpdated): void {
    const current = config.value;
    const weights = { ...(current?.weights ?? {}) } as StageWeights;
    for (const stage of STAGES) {
      const value = message.weights[stage];
      if (typeof value === 'number') weights[stage] = value;
    }
    config.value = {
      weights,
      confirm_threshold: message.confirm_threshold ?? current?.confirm_threshold ?? 0,
      stage_minimums: current?.stage_minimums ?? {},
    };
    revision.value += 1;
  }

  return { config, error, revision, load, save, ingestUpdate };
});
