import { describe, expect, it } from 'vitest';
import { axisPercent, calibrationPoints, mlVerdict, NO_MODEL, trainBody } from '../../src/lib/ml';
import type { FeatureContribution } from '../../src/types/messages';
import { stage } from './factories';

const push = (feature: string, contribution: number): FeatureContribution => ({
  type: 'feature_contribution',
  schema_version: 1,
  feature,
  value: 1,
  contribution,
});

describe('a signal’s ML verdict', () => {
  const stages = [stage('base_signal', 0.7), stage('ml_confidence', 0.62)];

  it('gives the confidence, the model, and the strongest pushes each way', () => {
    const pushes = [push('a', 0.1), push('b', -0.3), push('c', 0.4), push('d', -0.05), push('e', 0.2), push('f', 0.01)];
    const verdict = mlVerdict(stages, 'm20240501T120000', pushes);
    expect(verdict?.confidence).toBe(0.62);
    expect(verdict?.neutral).toBe(false);
    expect(verdict?.label).toBe('m20240501T120000');
    expect(verdict?.up.map((c) => c.feature)).toEqual(['c', 'e', 'a']);
    expect(verdict?.down.map((c) => c.feature)).toEqual(['b', 'd']);
  });

  it('says the stage was neutral when no model was loaded', () => {
    const neutral = [{ ...stage('ml_confidence', 0.5), neutral: true, reason: 'no model loaded' }];
    expect(mlVerdict(neutral, null, [])).toMatchObject({ neutral: true, label: NO_MODEL, up: [], down: [] });
    expect(mlVerdict(neutral, 'm1', [])?.label).toBe('neutral: no model loaded');
  });

  it('is absent while the ML stage has not judged the signal', () => {
    expect(mlVerdict([stage('base_signal', 0.7)], null, [])).toBeNull();
  });
});

describe('the Train form', () => {
  it('takes the folds as the number input gives them', () => {
    expect(trainBody({ universes: '', start: '', end: '', promote: true, folds: 3 }).params).toEqual({ n_folds: 3 });
  });

  it('leaves blanks out so the server applies its defaults', () => {
    expect(trainBody({ universes: ' ', start: '', end: '', promote: true, folds: '' })).toEqual({ promote: true });
  });

  it('splits universes on commas and spaces and passes the folds', () => {
    const body = trainBody({ universes: 'sp20-1990-2022, synthetic:3x600  msft-1986-2017', start: '2015-01-01', end: '', promote: false, folds: '4' });
    expect(body).toEqual({
      universes: ['sp20-1990-2022', 'synthetic:3x600', 'msft-1986-2017'],
      start: '2015-01-01',
      promote: false,
      params: { n_folds: 4 },
    });
  });
});

describe('plot geometry', () => {
  it('puts a perfectly calibrated bin on the diagonal and sizes circles by trades', () => {
    const [a, b] = calibrationPoints(
      [
        { low: 0.4, high: 0.5, n: 100, predicted: 0.45, observed: 0.45 },
        { low: 0.5, high: 0.6, n: 25, predicted: 0.55, observed: 0.3 },
        { low: 0.9, high: 1, n: 0, predicted: null, observed: null },
      ],
      200,
      20,
    );
    expect(a?.x).toBeCloseTo(20 + 0.45 * 160);
    expect(a?.y).toBeCloseTo(20 + 0.55 * 160); // y grows downward on screen
    expect(b?.y).toBeGreaterThan(a?.y ?? 0); // observed below predicted sits lower
    expect(a?.r).toBeGreaterThan(b?.r ?? 0);
  });

  it('maps a lift onto an axis centred on zero, clamped', () => {
    expect(axisPercent(0, 1)).toBe(50);
    expect(axisPercent(0.5, 1)).toBe(75);
    expect(axisPercent(-3, 1)).toBe(0);
    expect(axisPercent(1, 0)).toBe(50);
  });
});
