/**
 * The integration weights on the Settings page: their sum, normalizing them to sum to one,
 * and the words shown when the gateway refuses a save.
 */
import { ApiError } from './api';
import { STAGES, type StageWeights } from '../types/api';

/** How far from 1 a sum may be and still count as 1 (rounding of typed-in decimals). */
export const SUM_TOLERANCE = 1e-6;

export function weightsSum(weights: StageWeights): number {
  return STAGES.reduce((total, stage) => total + (Number.isFinite(weights[stage]) ? weights[stage] : 0), 0);
}

export function sumsToOne(weights: StageWeights): boolean {
  return Math.abs(weightsSum(weights) - 1) <= SUM_TOLERANCE;
}

/**
 * Scales the weights to sum to 1, rounded to 4 decimals with the rounding remainder put on
 * the largest weight so the sum is exactly 1. Negative or non-finite entries count as 0;
 * all-zero weights become equal weights.
 */
export function normalizeWeights(weights: StageWeights): StageWeights {
  const clean = Object.fromEntries(
    STAGES.map((s) => [s, Number.isFinite(weights[s]) && weights[s] > 0 ? weights[s] : 0]),
  ) as StageWeights;
  const total = weightsSum(clean);
  const scaled = Object.fromEntries(
    STAGES.map((s) => [s, total > 0 ? round4(clean[s] / total) : round4(1 / STAGES.length)]),
  ) as StageWeights;
  const largest = STAGES.reduce((a, b) => (scaled[b] > scaled[a] ? b : a));
  scaled[largest] = round4(scaled[largest] + (1 - weightsSum(scaled)));
  return scaled;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

export const UNAUTHORIZED_TEXT = 'refused: a valid API token is required';

/** What to show after a failed save: the server's own reason where it gave one. */
export function refusalMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401 || error.status === 403) return UNAUTHORIZED_TEXT;
    if (error.status === 422) return `refused: ${error.detail}`;
    if (error.status === 0) return `failed: ${error.detail}`;
    return `refused (${error.status}): ${error.detail}`;
  }
  return `failed: ${error instanceof Error ? error.message : String(error)}`;
}
