import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import MlSignalCell from '../../src/components/MlSignalCell.vue';
import { stage } from './factories';

const push = (feature: string, contribution: number) => ({
  type: 'feature_contribution' as const,
  schema_version: 1 as const,
  feature,
  value: 1,
  contribution,
});

describe('ML cell of a signal', () => {
  it('shows confidence, model and the top push each way', () => {
    const wrapper = mount(MlSignalCell, {
      props: {
        stages: [stage('ml_confidence', 0.64)],
        modelVersion: 'm20240501T120000',
        contributions: [push('rsi_14', 0.21), push('adx_14', -0.12), push('obv', 0.05), push('gap', -0.4)],
        top: 1,
      },
    });
    expect(wrapper.get('[data-testid="ml-confidence"]').text()).toBe('64%');
    expect(wrapper.get('[data-testid="ml-model"]').text()).toBe('m20240501T120000');
    expect(wrapper.findAll('[data-testid="ml-up"]').map((e) => e.text())).toEqual(['▲ rsi_14 +0.21']);
    expect(wrapper.findAll('[data-testid="ml-down"]').map((e) => e.text())).toEqual(['▼ gap -0.40']);
  });

  it('says neutral: no model when none was loaded', () => {
    const wrapper = mount(MlSignalCell, {
      props: { stages: [{ ...stage('ml_confidence', 0.5), neutral: true }], modelVersion: null, contributions: [] },
    });
    expect(wrapper.get('[data-testid="ml-cell"]').attributes('data-neutral')).toBe('true');
    expect(wrapper.get('[data-testid="ml-model"]').text()).toBe('neutral: no model');
  });

  it('is a dash for a candidate the ML stage has not judged', () => {
    const wrapper = mount(MlSignalCell, { props: { stages: [stage('base_signal', 0.7)], modelVersion: null, contributions: [] } });
    expect(wrapper.find('[data-testid="ml-cell"]').exists()).toBe(false);
    expect(wrapper.text()).toBe('—');
  });
});
