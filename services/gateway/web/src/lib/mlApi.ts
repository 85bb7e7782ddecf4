/** Calls to the gateway's `/api/ml` (docs/api.md); failures raise `ApiError` like `api.ts`. */
import { requestJson, withParams } from './api';
import type { JobProgress } from '../types/messages';
import type { MlModelDetail, MlModelPage, TrainBody } from '../types/ml';

export const mlApi = {
  models: (limit = 200) => requestJson<MlModelPage>(withParams('/api/ml/models', { limit })),
  model: (version: string) => requestJson<MlModelDetail>(`/api/ml/models/${encodeURIComponent(version)}`),
  train: (body: TrainBody, token: string) =>
    requestJson<JobProgress>('/api/ml/train', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }),
};

export type MlApi = typeof mlApi;
