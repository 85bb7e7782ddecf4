/**
 * Pure helpers for the ML stage on screen: a signal's ML verdict (confidence, model or
 * "neutral: no model", the features that pushed it up and down), the Train form's input,
 * and the calibration plot's geometry.
 */
import type { FeatureContribution, StageScore } from '../types/messages';
import type { CalibrationBin, TrainBody } from '../types/ml';

export const NO_MODEL = 'neutral: no model';

export interface MlVerdict {
  /** The ml_confidence stage's score: the calibrated probability of target before stop. */
  confidence: number;
  neutral: boolean;
  /** The model version, or why the stage was neutral. */
  label: string;
  up: FeatureContribution[];
  down: FeatureContribution[];
}

/**
 * A judged signal's ML verdict, or null when the ML stage has not spoken (a candidate).
 * `up` holds the largest positive pushes first, `down` the largest negative ones first.
 */
export function mlVerdict(
  stages: readonly StageScore[],
  modelVersion: string | null,
  contributions: readonly FeatureContribution[],
  top = 3,
): MlVerdict | null {
  const stage = stages.find((s) => s.stage === 'ml_confidence');
  if (!stage) return null;
  const neutral = stage.neutral || modelVersion === null;
  const label = !neutral ? (modelVersion as string) : modelVersion === null ? NO_MODEL : `neutral: ${stage.reason}`;
  const up = contributions.filter((c) => c.contribution > 0).sort((a, b) => b.contribution - a.contribution);
  const down = contributions.filter((c) => c.contribution < 0).sort((a, b) => a.contribution - b.contribution);
  return { confidence: stage.score, neutral, label, up: up.slice(0, top), down: down.slice(0, top) };
}

export interface TrainForm {
  universes: string;
  start: string;
  end: string;
  promote: boolean;
  /** A number input's v-model gives a number once typed in, '' while empty. */
  folds: string | number;
}

/** The Train form as the request body: universes split on commas or spaces, blanks left out. */
export function trainBody(form: TrainForm): TrainBody {
  const body: TrainBody = { promote: form.promote };
  const universes = form.universes.split(/[\s,]+/).filter(Boolean);
  if (universes.length) body.universes = universes;
  if (form.start) body.start = form.start;
  if (form.end) body.end = form.end;
  const text = String(form.folds).trim();
  const folds = Number(text);
  if (text && Number.isInteger(folds)) body.params = { n_folds: folds };
  return body;
}

export interface CalibrationPoint {
  x: number;
  y: number;
  r: number;
  bin: CalibrationBin;
}

/**
 * The calibration bins as points of a `size` x `size` plot (predicted on x, observed on y,
 * both 0..1, y growing upward), each circle's area in proportion to its trades.
 */
export function calibrationPoints(bins: readonly CalibrationBin[], size: number, pad = 24): CalibrationPoint[] {
  const span = size - 2 * pad;
  const most = Math.max(1, ...bins.map((b) => b.n));
  return bins
    .filter((b) => b.predicted !== null && b.observed !== null)
    .map((bin) => ({
      x: pad + (bin.predicted as number) * span,
      y: pad + (1 - (bin.observed as number)) * span,
      r: 2 + 7 * Math.sqrt(bin.n / most),
      bin,
    }));
}

/** Where a value sits on a symmetric axis around zero, in % of its width (for lift intervals). */
export function axisPercent(value: number, bound: number): number {
  if (!(bound > 0)) return 50;
  return Math.min(100, Math.max(0, 50 + (50 * value) / bound));
}
