/**
 * The gateway's ML answers (docs/api.md, `/api/ml`): a registered model's headline and its
 * whole out-of-sample report. Written by hand like `api.ts`: REST shapes, not NATS messages.
 */
import type { Page } from './api';

export type Interval = [number, number] | null;

export interface MlModelSummary {
  version: string;
  promoted: boolean;
  created_at: string;
  train_start: string | null;
  train_end: string | null;
  sha256: string;
  samples: number | null;
  n_features: number;
  /** oos_auc, oos_brier, oos_brier_skill, oos_precision, oos_trades, oos_win_rate_all/kept, oos_expectancy_all/kept/lift, samples */
  metrics: Record<string, number>;
  expectancy_lift_ci: Interval;
  promotion_reason: string | null;
}

export type MlModelPage = Page<MlModelSummary>;

export interface CalibrationBin {
  low: number;
  high: number;
  n: number;
  predicted: number | null;
  observed: number | null;
}

export interface Lift {
  trades: number | null;
  kept: number | null;
  win_rate_all: number | null;
  win_rate_kept: number | null;
  win_rate_lift: number | null;
  win_rate_lift_ci: Interval;
  expectancy_all: number | null;
  expectancy_kept: number | null;
  expectancy_lift: number | null;
  expectancy_lift_ci: Interval;
}

export interface OutOfSample {
  n: number | null;
  positives: number | null;
  auc: number | null;
  brier: number | null;
  brier_reference: number | null;
  brier_skill: number | null;
  precision: number | null;
  kept: number | null;
}

export interface FoldMetrics {
  fold: number;
  train_start: string | null;
  train_end: string | null;
  train_n: number | null;
  purged: number | null;
  test_start: string | null;
  test_end: string | null;
  n: number | null;
  positives: number | null;
  auc: number | null;
  brier: number | null;
  brier_skill: number | null;
  precision: number | null;
  threshold: number | null;
  kept: number | null;
  lift: Lift;
}

export interface Importance {
  feature: string;
  mean_abs_shap: number | null;
}

export interface MlModelDetail extends MlModelSummary {
  features: string[];
  datasets: { name: string; candidates: number | null; labeled: number | null }[];
  out_of_sample: OutOfSample;
  calibration: CalibrationBin[];
  lift: Lift;
  folds: FoldMetrics[];
  importance: Importance[];
  importance_in_sample: Importance[];
  params: Record<string, number | string | boolean | null>;
  previous: string | null;
}

/** `POST /api/ml/train`'s body; every field optional (the server has the CLI's defaults). */
export interface TrainBody {
  universes?: string[];
  start?: string;
  end?: string;
  promote?: boolean;
  params?: Partial<Record<'n_folds' | 'embargo_days' | 'n_estimators' | 'max_depth' | 'n_bootstrap' | 'seed', number>>;
}
