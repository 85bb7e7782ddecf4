import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { defineComponent } from 'vue';
import SignalsView from '../../src/views/SignalsView.vue';
import { useSignalsStore } from '../../src/stores/signals';
import type { SignalRow } from '../../src/types/api';
import { candidate, row } from './factories';
import { fakeFetch } from './fake-fetch';

const Stub = defineComponent({ template: '<div />' });

function rows(n: number): SignalRow[] {
  return Array.from({ length: n }, (_, i) =>
    row(`S${String(i).padStart(3, '0')}`, '2024-05-01', Math.round((1 - i / n) * 1000) / 1000, i % 2 ? 'rejected' : 'confirmed'),
  );
}

async function mountAt(path: string, stored: SignalRow[]) {
  const fake = fakeFetch({
    'GET /api/signals': (req) => {
      const q = new URL(req.url, 'http://x').searchParams;
      const offset = Number(q.get('offset'));
      const limit = Number(q.get('limit'));
      const status = q.get('status');
      const matching = stored.filter((r) => !status || r.status === status);
      return { status: 200, body: { items: matching.slice(offset, offset + limit), total: matching.length, limit, offset } };
    },
    'GET /api/signals/funnel': () => ({
      status: 200,
      body: {
        candidates: 10,
        confirmed: 2,
        rejected: 8,
        stages: [
          { stage: 'base_signal', passed: 10, rejected: 0 },
          { stage: 'confirmation', passed: 4, rejected: 6 },
        ],
      },
    }),
  });
  vi.stubGlobal('fetch', fake.fetch);
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'signals', component: SignalsView },
      { path: '/symbol/:symbol', name: 'symbol', component: Stub },
    ],
  });
  await router.push(path);
  const pinia = createPinia();
  setActivePinia(pinia);
  const wrapper = mount(SignalsView, { global: { plugins: [pinia, router] } });
  await flushPromises();
  return { wrapper, router, requests: fake.requests };
}

describe('Signals page', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => vi.unstubAllGlobals());

  it('renders one page of ranked rows however many are loaded', async () => {
    const { wrapper } = await mountAt('/', rows(120));
    const shown = wrapper.findAll('[data-testid="signal-row"]');
    expect(shown).toHaveLength(50);
    expect(shown[0]?.attributes('data-symbol')).toBe('S000');
    expect(wrapper.get('[data-testid="pager"]').text()).toContain('1–50 of 120');
    wrapper.unmount();
  });

  it('takes its filters from the URL and passes them to the API', async () => {
    const { wrapper, requests } = await mountAt('/?status=rejected&page=2', rows(120));
    const signalCalls = requests.filter((r) => r.url.startsWith('/api/signals?'));
    expect(signalCalls.every((r) => r.url.includes('status=rejected'))).toBe(true);
    const shown = wrapper.findAll('[data-testid="signal-row"]');
    expect(shown).toHaveLength(10); // 60 rejected rows: page 2 holds the last 10
    expect(shown.every((r) => r.attributes('data-status') === 'rejected')).toBe(true);
    wrapper.unmount();
  });

  it('writes a changed filter into the URL and starts again at page 1', async () => {
    const { wrapper, router } = await mountAt('/?page=2', rows(120));
    await wrapper.get('[data-testid="filter-status"]').setValue('confirmed');
    await flushPromises();
    expect(router.currentRoute.value.query).toEqual({ status: 'confirmed' });
    wrapper.unmount();
  });

  it('adds live candidates to the table as they arrive', async () => {
    const { wrapper } = await mountAt('/?status=candidate', []);
    const store = useSignalsStore();
    store.ingestCandidate(candidate('LIVE', '2024-05-06'));
    store.flush();
    await flushPromises();
    const shown = wrapper.findAll('[data-testid="signal-row"]');
    expect(shown.map((r) => r.attributes('data-symbol'))).toEqual(['LIVE']);
    wrapper.unmount();
  });

  it('opens the symbol page when a row is clicked', async () => {
    const { wrapper, router } = await mountAt('/', rows(3));
    await wrapper.findAll('[data-testid="signal-row"]')[1]?.trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe('/symbol/S001');
    wrapper.unmount();
  });

  it('shows the funnel per stage', async () => {
    const { wrapper } = await mountAt('/', rows(3));
    const stages = wrapper.findAll('[data-testid="funnel-stage"]');
    expect(stages.map((s) => s.attributes('data-stage'))).toEqual(['base_signal', 'confirmation']);
    expect(wrapper.get('[data-testid="funnel"]').text()).toContain('2 confirmed');
    wrapper.unmount();
  });
});
