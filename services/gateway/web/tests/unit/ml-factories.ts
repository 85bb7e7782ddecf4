/** Models as `/api/ml` answers them, for the ML page's tests. */
import type { JobProgress } from '../../src/types/messages';
import type { Lift, MlModelDetail, MlModelSummary } from '../../src/types/ml';

export function summary(version: string, promoted = false): MlModelSummary {
  return {
    version,
    promoted,
    created_at: '2024-05-01T12:00:00Z',
    train_start: '2014-01-02T00:00:00Z',
    train_end: '2023-12-29T00:00:00Z',
    sha256: 'ab'.repeat(32),
    samples: 1200,
    n_features: 40,
    metrics: {
      oos_auc: 0.571,
      oos_brier: 0.2391,
      oos_brier_skill: 0.021,
      oos_win_rate_all: 0.42,
      oos_win_rate_kept: 0.47,
      oos_expectancy_lift: 0.0031,
    },
    expectancy_lift_ci: [-0.0008, 0.0069],
    promotion_reason: promoted ? 'no promoted model; out-of-sample Brier 0.2391 < neutral 0.25' : 'not better',
  };
}

export function lift(): Lift {
  return {
    trades: 900,
    kept: 400,
    win_rate_all: 0.42,
    win_rate_kept: 0.47,
    win_rate_lift: 0.05,
    win_rate_lift_ci: [0.01, 0.09],
    expectancy_all: 0.002,
    expectancy_kept: 0.0051,
    expectancy_lift: 0.0031,
    expectancy_lift_ci: [-0.0008, 0.0069],
  };
}

export function detail(version: string, promoted = false): MlModelDetail {
  return {
    ...summary(version, promoted),
    features: ['rsi_14', 'adx_14', 'rel_volume'],
    datasets: [{ name: 'megacaps-2013-2023', candidates: 1500, labeled: 1200 }],
    out_of_sample: { n: 900, positives: 378, auc: 0.571, brier: 0.2391, brier_reference: 0.2442, brier_skill: 0.021, precision: 0.47, kept: 400 },
    calibration: [
      { low: 0.2, high: 0.3, n: 100, predicted: 0.27, observed: 0.25 },
      { low: 0.4, high: 0.5, n: 500, predicted: 0.44, observed: 0.43 },
      { low: 0.6, high: 0.7, n: 50, predicted: 0.63, observed: 0.6 },
    ],
    lift: lift(),
    folds: [1, 2, 3].map((fold) => ({
      fold,
      train_start: '2014-01-02',
      train_end: '2016-01-02',
      train_n: 300 * fold,
      purged: 4,
      test_start: `201${5 + fold}-01-04`,
      test_end: `201${5 + fold}-12-30`,
      n: 300,
      positives: 126,
      auc: 0.56,
      brier: 0.24,
      brier_skill: 0.01,
      precision: 0.46,
      threshold: 0.42,
      kept: 130,
      lift: lift(),
    })),
    importance: [
      { feature: 'rsi_14', mean_abs_shap: 0.2 },
      { feature: 'adx_14', mean_abs_shap: 0.1 },
      { feature: 'rel_volume', mean_abs_shap: 0.05 },
    ],
    importance_in_sample: [],
    params: { n_folds: 3, max_depth: 3 },
    previous: null,
  };
}

export function trainJob(status: JobProgress['status'], done = 0, total = 0, resultId: string | null = null): JobProgress {
  return {
    type: 'job_progress',
    schema_version: 1,
    job_id: 'job-abc',
    kind: 'train',
    stage: status === 'queued' ? '' : 'folds',
    done,
    total,
    status,
    result_id: resultId,
    error: status === 'failed' ? 'too few to train on' : null,
    ts_event: `2024-05-01T12:00:0${done}Z`,
  };
}
