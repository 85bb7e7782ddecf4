import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsView from '../../src/views/SettingsView.vue';
import { TOKEN_KEY } from '../../src/lib/token';
import { UNAUTHORIZED_TEXT } from '../../src/lib/weights';
import { fakeFetch, type Handler } from './fake-fetch';

const config = {
  weights: { base_signal: 0.3, confirmation: 0.25, ml_confidence: 0.25, entry_timing: 0.2 },
  confirm_threshold: 0.6,
  stage_minimums: { base_signal: 0.3, confirmation: 0.4 },
};

function server(put: Handler) {
  return fakeFetch({
    'GET /api/weights': () => ({ status: 200, body: config }),
    'PUT /api/weights': put,
    'GET /readyz': () => ({ status: 503, body: { status: 'degraded', checks: { nats: true, database: false } } }),
  });
}

async function mountWith(put: Handler) {
  const fake = server(put);
  vi.stubGlobal('fetch', fake.fetch);
  const wrapper = mount(SettingsView, { global: { plugins: [createPinia()] } });
  await flushPromises();
  return { wrapper, requests: fake.requests };
}

describe('Settings page', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    sessionStorage.clear();
    localStorage.clear();
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows the weights in force and their sum', async () => {
    const { wrapper } = await mountWith(() => ({ status: 200, body: config }));
    expect((wrapper.get('[data-testid="weight-confirmation"]').element as HTMLInputElement).value).toBe('0.25');
    expect(wrapper.get('[data-testid="weights-sum"]').text()).toBe('1.0000');
    wrapper.unmount();
  });

  it('shows a sum off one and normalizes it back', async () => {
    const { wrapper } = await mountWith(() => ({ status: 200, body: config }));
    await wrapper.get('[data-testid="weight-base_signal"]').setValue('0.7');
    expect(wrapper.get('[data-testid="weights-sum"]').text()).toBe('1.4000');
    await wrapper.get('[data-testid="weights-normalize"]').trigger('click');
    expect(wrapper.get('[data-testid="weights-sum"]').text()).toBe('1.0000');
    expect(Number((wrapper.get('[data-testid="weight-base_signal"]').element as HTMLInputElement).value)).toBeCloseTo(0.5, 3);
    wrapper.unmount();
  });

  it('says a token is required when the server answers 401', async () => {
    const { wrapper } = await mountWith(() => ({ status: 401, body: { detail: 'Not authenticated' } }));
    await wrapper.get('[data-testid="weights-form"]').trigger('submit');
    await flushPromises();
    const message = wrapper.get('[data-testid="weights-message"]');
    expect(message.text()).toBe(UNAUTHORIZED_TEXT);
    expect(message.attributes('data-ok')).toBe('false');
    wrapper.unmount();
  });

  it("shows the server's reason when it refuses the values (422)", async () => {
    const { wrapper } = await mountWith(() => ({ status: 422, body: { detail: 'weights must sum to 1 (got 1.4)' } }));
    await wrapper.get('[data-testid="weights-form"]').trigger('submit');
    await flushPromises();
    expect(wrapper.get('[data-testid="weights-message"]').text()).toContain('weights must sum to 1 (got 1.4)');
    wrapper.unmount();
  });

  it('saves with the bearer token, keeps the token in this tab only, and confirms', async () => {
    const { wrapper, requests } = await mountWith((req) => ({
      status: 200,
      body: { ...config, weights: (req.body as typeof config).weights },
    }));
    await wrapper.get('[data-testid="api-token"]').setValue('s3cret');
    await wrapper.get('[data-testid="weights-normalize"]').trigger('click');
    await wrapper.get('[data-testid="weights-form"]').trigger('submit');
    await flushPromises();
    const put = requests.find((r) => r.method === 'PUT');
    expect(put?.headers.Authorization).toBe('Bearer s3cret');
    expect(put?.body).toMatchObject({ weights: config.weights, confirm_threshold: 0.6 });
    expect(wrapper.get('[data-testid="weights-message"]').attributes('data-ok')).toBe('true');
    expect(sessionStorage.getItem(TOKEN_KEY)).toBe('s3cret');
    expect(JSON.stringify({ ...localStorage })).not.toContain('s3cret');
    wrapper.unmount();
  });

  it('shows NATS and the database from a degraded readiness answer', async () => {
    const { wrapper } = await mountWith(() => ({ status: 200, body: config }));
    expect(wrapper.get('[data-testid="ready-nats"]').attributes('data-ok')).toBe('true');
    expect(wrapper.get('[data-testid="ready-database"]').attributes('data-ok')).toBe('false');
    expect(wrapper.get('[data-testid="ready-database"]').text()).toContain('down');
    wrapper.unmount();
  });
});

describe('Settings page without the weights', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows no form with made-up values when the weights cannot be loaded', async () => {
    const fake = fakeFetch({ 'GET /api/weights': () => ({ status: 503, body: { detail: 'database unavailable' } }) });
    vi.stubGlobal('fetch', fake.fetch);
    const wrapper = mount(SettingsView, { global: { plugins: [createPinia()] } });
    await flushPromises();
    expect(wrapper.find('[data-testid="weights-form"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="weights-load-error"]').text()).toContain('database unavailable');
    wrapper.unmount();
  });
});
