import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import StatusBar from '../../src/components/StatusBar.vue';
import { useConnectionStore } from '../../src/stores/connection';

describe('status bar', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('shows the reconnect attempt, live counts and drops', async () => {
    const pinia = createPinia();
    setActivePinia(pinia);
    const connection = useConnectionStore();
    const wrapper = mount(StatusBar, { global: { plugins: [pinia] } });
    connection.setStatus({ state: 'reconnecting', attempt: 3 });
    connection.count('signals');
    connection.count('signals');
    connection.count('confirmed');
    connection.noteDropped(5);
    connection.noteBar('2024-05-02T00:00:00Z');
    connection.flush();
    await wrapper.vm.$nextTick();
    const ws = wrapper.get('[data-testid="ws-status"]');
    expect(ws.text()).toContain('reconnecting (attempt 3)');
    expect(ws.attributes('data-state')).toBe('reconnecting');
    expect(wrapper.get('[data-testid="live-counts"]').text()).toContain('2 signals');
    expect(wrapper.get('[data-testid="live-counts"]').text()).toContain('1 confirmed');
    expect(wrapper.get('[data-testid="dropped"]').text()).toBe('dropped 5');
    expect(wrapper.get('[data-testid="last-bar"]').text()).toContain('2024-05-02');
    connection.setStatus({ state: 'open', attempt: 0 });
    await wrapper.vm.$nextTick();
    expect(wrapper.get('[data-testid="ws-status"]').text()).toContain('connected');
    wrapper.unmount();
  });
});
