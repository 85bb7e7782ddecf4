import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/lib/backoff';

const policy = { baseMs: 500, capMs: 10_000 };

describe('backoffDelay', () => {
  it('doubles the delay window with each failed attempt', () => {
    const low = [1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0));
    expect(low).toEqual([250, 500, 1000, 2000]);
  });

  it('keeps every delay within [half, full] of its window', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const window = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.99, 1]) {
        const delay = backoffDelay(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(window / 2);
        expect(delay).toBeLessThanOrEqual(window);
      }
    }
  });

  it('never waits longer than the cap however many attempts failed', () => {
    expect(backoffDelay(50, policy, () => 1)).toBe(10_000);
    expect(backoffDelay(10_000, policy, () => 1)).toBe(10_000);
  });

  it('spreads clients apart with the random half', () => {
    expect(backoffDelay(4, policy, () => 0)).not.toBe(backoffDelay(4, policy, () => 1));
  });

  it('treats attempt 0 or fractions as the first retry', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(backoffDelay(1, policy, () => 0));
  });
});
