import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useModelsStore } from '../../src/stores/models';
import type { MlModelSummary } from '../../src/types/ml';
import { detail, summary, trainJob } from './ml-factories';

function fakeApi(pages: MlModelSummary[][]) {
  const calls: string[] = [];
  let page = 0;
  return {
    calls,
    api: {
      models: async () => {
        calls.push('models');
        const items = pages[Math.min(page++, pages.length - 1)] ?? [];
        return { items, total: items.length, limit: 200, offset: 0 };
      },
      model: async (version: string) => {
        calls.push(`model ${version}`);
        return detail(version, version === 'm1');
      },
      train: async () => {
        calls.push('train');
        return trainJob('queued');
      },
    },
  };
}

describe('models store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('knows the promoted model and reads each detail once', async () => {
    const store = useModelsStore();
    const fake = fakeApi([[summary('m2'), summary('m1', true)]]);
    store.useApi(fake.api);
    await store.load();
    expect(store.promoted?.version).toBe('m1');
    await store.loadDetail('m1');
    await store.loadDetail('m1');
    expect(fake.calls).toEqual(['models', 'model m1']);
  });

  it('reads a detail again once its promotion changed', async () => {
    const store = useModelsStore();
    const fake = fakeApi([[summary('m1', true)], [summary('m3', true), summary('m1', false)]]);
    store.useApi(fake.api);
    await store.load();
    await store.loadDetail('m1');
    await store.load();
    await store.loadDetail('m1');
    expect(fake.calls.filter((c) => c === 'model m1')).toHaveLength(2);
  });

  it('follows the training it started through the jobs store', async () => {
    const store = useModelsStore();
    store.useApi(fakeApi([[]]).api);
    const id = await store.train({}, 'token');
    expect(id).toBe('job-abc');
    expect(store.training?.status).toBe('queued');
  });

  it('keeps the last error and clears it on the next good load', async () => {
    const store = useModelsStore();
    const fake = fakeApi([[]]);
    store.useApi({ ...fake.api, models: async () => Promise.reject(new Error('HTTP 503: database down')) });
    await store.load();
    expect(store.error).toBe('HTTP 503: database down');
    store.useApi(fake.api);
    await store.load();
    expect(store.error).toBeNull();
    expect(store.loaded).toBe(true);
  });
});
