import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_JOBS, useJobsStore } from '../../src/stores/jobs';
import type { JobProgress } from '../../src/types/messages';

function job(id: string, status: JobProgress['status'], done = 0, ts = '2024-05-01T00:00:00Z'): JobProgress {
  return {
    type: 'job_progress',
    schema_version: 1,
    job_id: id,
    kind: 'train',
    stage: 'folds',
    done,
    total: 7,
    status,
    result_id: status === 'done' ? 'm20240501T000000' : null,
    error: null,
    ts_event: ts,
  };
}

describe('jobs store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('keeps the latest state of each job', () => {
    const jobs = useJobsStore();
    jobs.ingestJob(job('a', 'queued'));
    jobs.ingestJob(job('a', 'running', 3, '2024-05-01T00:00:01Z'));
    jobs.ingestJob(job('b', 'queued'));
    expect(jobs.get('a')?.done).toBe(3);
    expect(jobs.get('b')?.status).toBe('queued');
    expect(jobs.get('nope')).toBeNull();
  });

  it('never lets an older report or one after the end replace a state', () => {
    const jobs = useJobsStore();
    jobs.ingestJob(job('a', 'running', 5, '2024-05-01T00:00:05Z'));
    jobs.ingestJob(job('a', 'running', 2, '2024-05-01T00:00:02Z'));
    expect(jobs.get('a')?.done).toBe(5);
    jobs.ingestJob(job('a', 'done', 7, '2024-05-01T00:00:06Z'));
    jobs.ingestJob(job('a', 'running', 6, '2024-05-01T00:00:09Z'));
    expect(jobs.get('a')?.status).toBe('done');
    expect(jobs.get('a')?.result_id).toBe('m20240501T000000');
  });

  it('forgets the jobs changed longest ago past its bound', () => {
    const jobs = useJobsStore();
    for (let i = 0; i <= MAX_JOBS; i += 1) jobs.ingestJob(job(`j${i}`, 'queued'));
    expect(jobs.jobs.size).toBe(MAX_JOBS);
    expect(jobs.get('j0')).toBeNull();
    expect(jobs.get(`j${MAX_JOBS}`)).not.toBeNull();
  });
});
