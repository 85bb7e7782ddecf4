import { describe, expect, it } from 'vitest';
import { ApiError, detailText, withParams } from '../../src/lib/api';
import { normalizeWeights, refusalMessage, sumsToOne, UNAUTHORIZED_TEXT, weightsSum } from '../../src/lib/weights';

const w = (a: number, b: number, c: number, d: number) => ({
  base_signal: a,
  confirmation: b,
  ml_confidence: c,
  entry_timing: d,
});

describe('integration weights', () => {
  it('sums the four weights', () => {
    expect(weightsSum(w(0.3, 0.25, 0.25, 0.2))).toBeCloseTo(1, 12);
    expect(sumsToOne(w(0.3, 0.25, 0.25, 0.2))).toBe(true);
    expect(sumsToOne(w(0.3, 0.3, 0.3, 0.3))).toBe(false);
  });

  it('normalizes to an exact sum of one, keeping the proportions', () => {
    const n = normalizeWeights(w(3, 2, 2, 1));
    expect(weightsSum(n)).toBe(1);
    expect(n.base_signal).toBeCloseTo(3 / 8, 3);
    expect(n.entry_timing).toBeCloseTo(1 / 8, 3);
  });

  it('puts the rounding remainder where it distorts least', () => {
    const n = normalizeWeights(w(1, 1, 1, 0));
    expect(weightsSum(n)).toBe(1);
    expect(Object.values(n).filter((x) => x > 0)).toHaveLength(3);
  });

  it('treats negative or missing entries as zero and all-zero as equal weights', () => {
    expect(normalizeWeights(w(-1, 1, Number.NaN, 1))).toEqual(w(0, 0.5, 0, 0.5));
    expect(normalizeWeights(w(0, 0, 0, 0))).toEqual(w(0.25, 0.25, 0.25, 0.25));
  });
});

describe('save refusals', () => {
  it('asks for a token on 401', () => {
    expect(refusalMessage(new ApiError(401, 'Not authenticated'))).toBe(UNAUTHORIZED_TEXT);
  });

  it("shows the server's detail on 422", () => {
    expect(refusalMessage(new ApiError(422, 'weights: must sum to 1'))).toBe('refused: weights: must sum to 1');
  });

  it('names the status of other refusals and says when the gateway is unreachable', () => {
    expect(refusalMessage(new ApiError(500, 'boom'))).toBe('refused (500): boom');
    expect(refusalMessage(new ApiError(0, 'could not reach the gateway'))).toBe('failed: could not reach the gateway');
  });
});

describe('API helpers', () => {
  it('reads a plain detail and FastAPI validation lists', () => {
    expect(detailText({ detail: 'bad token' })).toBe('bad token');
    expect(
      detailText({
        detail: [
          { loc: ['body', 'weights', 'ml_confidence'], msg: 'must be >= 0', type: 'x' },
          { loc: ['body', 'confirm_threshold'], msg: 'must be <= 1', type: 'y' },
        ],
      }),
    ).toBe('weights.ml_confidence: must be >= 0; confirm_threshold: must be <= 1');
    expect(detailText(null)).toBe('');
  });

  it('leaves empty parameters out of the query string', () => {
    expect(withParams('/api/signals', { status: 'confirmed', symbol: '', from: null, limit: 50 })).toBe(
      '/api/signals?status=confirmed&limit=50',
    );
    expect(withParams('/api/signals')).toBe('/api/signals');
  });
});
