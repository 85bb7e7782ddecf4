import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import PortfolioView from '../../src/views/PortfolioView.vue';
import { useAllocationsStore } from '../../src/stores/allocations';
import { allocation } from './factories';
import { fakeFetch } from './fake-fetch';

const position = (symbol: string, value: number, weight: number, pnl: number) => ({
  symbol,
  quantity: 10,
  avg_price: 100,
  last_price: value / 10,
  market_value: value,
  weight,
  stop: 90,
  target: 120,
  unrealized_pnl: pnl,
});

describe('Portfolio page', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows cash, equity, exposure, positions by size and the allocation history with live additions', async () => {
    const fake = fakeFetch({
      'GET /api/portfolio': () => ({
        status: 200,
        body: {
          as_of: '2024-05-03T00:00:00Z',
          cash: 6000,
          equity: 10000,
          positions: [position('SMALL', 1000, 0.1, -20), position('BIG', 3000, 0.3, 150)],
        },
      }),
      'GET /api/allocations': () => ({
        status: 200,
        body: { items: [allocation('a1', 'BIG', '2024-05-01T00:00:00Z')], total: 1, limit: 200, offset: 0 },
      }),
    });
    vi.stubGlobal('fetch', fake.fetch);
    const pinia = createPinia();
    setActivePinia(pinia);
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/symbol/:symbol', name: 'symbol', component: PortfolioView }] });
    const wrapper = mount(PortfolioView, { global: { plugins: [pinia, router] } });
    await flushPromises();

    expect(wrapper.get('[data-testid="equity"]').text()).toBe('10,000.00');
    expect(wrapper.get('[data-testid="cash"]').text()).toBe('6,000.00');
    expect(wrapper.get('[data-testid="portfolio-summary"]').text()).toContain('40.0%');
    const rows = wrapper.findAll('[data-testid="position-row"]');
    expect(rows.map((r) => r.find('td').text())).toEqual(['BIG', 'SMALL']);
    expect(wrapper.findAll('[data-testid="allocation-row"]')).toHaveLength(1);

    useAllocationsStore().ingestAllocation(allocation('a2', 'NEW', '2024-05-02T00:00:00Z'));
    await flushPromises();
    const allocations = wrapper.findAll('[data-testid="allocation-row"]');
    expect(allocations).toHaveLength(2);
    expect(allocations[0]?.text()).toContain('NEW');
    wrapper.unmount();
  });
});
