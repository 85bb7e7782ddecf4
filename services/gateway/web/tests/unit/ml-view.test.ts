import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import MlView from '../../src/views/MlView.vue';
import { TOKEN_KEY } from '../../src/lib/token';
import { UNAUTHORIZED_TEXT } from '../../src/lib/weights';
import { useConnectionStore } from '../../src/stores/connection';
import { useJobsStore } from '../../src/stores/jobs';
import { useModelsStore } from '../../src/stores/models';
import { fakeFetch, type Handler } from './fake-fetch';
import { detail, summary, trainJob } from './ml-factories';

let models = [summary('m2', false), summary('m1', true)];

function server(train: Handler = () => ({ status: 202, body: trainJob('queued') })) {
  return fakeFetch({
    'GET /api/ml/models': () => ({ status: 200, body: { items: models, total: models.length, limit: 200, offset: 0 } }),
    'GET /api/ml/models/m1': () => ({ status: 200, body: detail('m1', true) }),
    'GET /api/ml/models/m2': () => ({ status: 200, body: detail('m2', false) }),
    'GET /api/ml/models/m3': () => ({ status: 200, body: detail('m3', true) }),
    'POST /api/ml/train': train,
  });
}

async function mountWith(train?: Handler) {
  const fake = server(train);
  vi.stubGlobal('fetch', fake.fetch);
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/ml', component: MlView }] });
  await router.push('/ml');
  const wrapper = mount(MlView, { global: { plugins: [pinia, router] } });
  await flushPromises();
  return { wrapper, requests: fake.requests, router };
}

describe('ML page', () => {
  beforeEach(() => {
    models = [summary('m2', false), summary('m1', true)];
    sessionStorage.clear();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists the models with their out-of-sample figures and marks the promoted one', async () => {
    const { wrapper } = await mountWith();
    const rows = wrapper.findAll('[data-testid="model-row"]');
    expect(rows.map((r) => r.attributes('data-version'))).toEqual(['m2', 'm1']);
    expect(rows.map((r) => r.attributes('data-promoted'))).toEqual(['false', 'true']);
    expect(rows[1]?.find('[data-testid="promoted-badge"]').exists()).toBe(true);
    expect(rows[0]?.find('[data-testid="promoted-badge"]').exists()).toBe(false);
    expect(rows[0]?.text()).toContain('0.571');
    expect(rows[0]?.text()).toContain('[-0.08%, 0.69%]');
    wrapper.unmount();
  });

  it('opens the promoted model first, with calibration, importance, lift and folds', async () => {
    const { wrapper } = await mountWith();
    const model = wrapper.get('[data-testid="model-detail"]');
    expect(model.attributes('data-version')).toBe('m1');
    expect(wrapper.findAll('[data-testid="calibration-point"]')).toHaveLength(3);
    expect(wrapper.findAll('[data-testid="calibration-row"]')[1]?.text()).toContain('44.0%');
    const bars = wrapper.findAll('[data-testid="importance-bar"]');
    expect(bars.map((b) => b.attributes('data-feature'))).toEqual(['rsi_14', 'adx_14', 'rel_volume']);
    expect(wrapper.get('[data-testid="expectancy-lift-ci"]').text()).toBe('[-0.08%, 0.69%]');
    expect(wrapper.find('[data-testid="lift-warning"]').exists()).toBe(true); // the interval spans zero
    expect(wrapper.findAll('[data-testid="fold-row"]')).toHaveLength(3);
    wrapper.unmount();
  });

  it('shows another model when its row is clicked', async () => {
    const { wrapper, router } = await mountWith();
    await wrapper.findAll('[data-testid="model-row"]')[0]?.trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query.model).toBe('m2');
    expect(wrapper.get('[data-testid="model-detail"]').attributes('data-version')).toBe('m2');
    wrapper.unmount();
  });

  it('says the stage is neutral when there is no model', async () => {
    models = [];
    const { wrapper } = await mountWith();
    expect(wrapper.get('[data-testid="models-empty"]').text()).toContain('neutral');
    expect(wrapper.find('[data-testid="model-detail"]').exists()).toBe(false);
    wrapper.unmount();
  });

  it('trains with the token, follows the job live, then lists and opens the new model', async () => {
    sessionStorage.setItem(TOKEN_KEY, 's3cret');
    const { wrapper, requests } = await mountWith();
    await wrapper.get('[data-testid="train-universes"]').setValue('synthetic:3x600');
    await wrapper.get('[data-testid="train-folds"]').setValue('3');
    await wrapper.get('[data-testid="train-form"]').trigger('submit');
    await flushPromises();
    const post = requests.find((r) => r.method === 'POST');
    expect(post?.headers.Authorization).toBe('Bearer s3cret');
    expect(post?.body).toEqual({ promote: true, universes: ['synthetic:3x600'], params: { n_folds: 3 } });
    expect(wrapper.get('[data-testid="train-status"]').text()).toBe('queued');
    expect(wrapper.get('[data-testid="train-button"]').attributes('disabled')).toBeDefined();

    const jobs = useJobsStore();
    jobs.ingestJob(trainJob('running', 3, 6));
    await flushPromises();
    expect(wrapper.get('[data-testid="train-progress"]').text()).toContain('50%');
    expect(wrapper.get('[data-testid="train-stage"]').text()).toContain('3/6');

    models = [summary('m3', true), summary('m2', false), { ...summary('m1', false) }];
    jobs.ingestJob(trainJob('done', 6, 6, 'm3'));
    await flushPromises();
    expect(wrapper.get('[data-testid="train-result"]').text()).toBe('model m3');
    const rows = wrapper.findAll('[data-testid="model-row"]');
    expect(rows.map((r) => r.attributes('data-version'))).toEqual(['m3', 'm2', 'm1']);
    expect(wrapper.get('[data-testid="model-detail"]').attributes('data-version')).toBe('m3');
    wrapper.unmount();
  });

  it('says a token is required when the server answers 401, and shows a failed job’s reason', async () => {
    const { wrapper } = await mountWith(() => ({ status: 401, body: { detail: 'a bearer token is required' } }));
    await wrapper.get('[data-testid="train-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[data-testid="train-message"]').text()).toBe(UNAUTHORIZED_TEXT);

    useModelsStore().trainingJobId = 'job-abc';
    useJobsStore().ingestJob(trainJob('failed'));
    await flushPromises();
    expect(wrapper.get('[data-testid="train-error"]').text()).toBe('too few to train on');
    wrapper.unmount();
  });

  it('reloads the list when a model is announced on the models channel', async () => {
    const { wrapper, requests } = await mountWith();
    const before = requests.filter((r) => r.url.startsWith('/api/ml/models?')).length;
    models = [summary('m3', true), ...models.map((m) => ({ ...m, promoted: false }))];
    useConnectionStore().noteModel('m3');
    await flushPromises();
    expect(requests.filter((r) => r.url.startsWith('/api/ml/models?')).length).toBe(before + 1);
    expect(wrapper.findAll('[data-testid="model-row"]')[0]?.attributes('data-promoted')).toBe('true');
    wrapper.unmount();
  });
});
