/**
 * Background jobs started through the API (a backtest, a model training): the latest
 * `JobProgress` of each, from the 202 answer that started it and then live on the `jobs`
 * channel. Generic over the job kind; a page follows the job ids it started.
 */
import { defineStore } from 'pinia';
import { shallowRef } from 'vue';
import type { JobProgress } from '../types/messages';

export const MAX_JOBS = 200;
const FINAL: ReadonlySet<JobProgress['status']> = new Set(['done', 'failed']);

export function isFinal(job: JobProgress | null | undefined): boolean {
  return job !== null && job !== undefined && FINAL.has(job.status);
}

/** Whether `next` should replace `held`: a final state stays, an older report loses. */
export function supersedes(held: JobProgress | undefined, next: JobProgress): boolean {
  if (!held) return true;
  if (isFinal(held)) return false;
  if (isFinal(next)) return true;
  return next.ts_event >= held.ts_event;
}

export const useJobsStore = defineStore('jobs', () => {
  /** job id -> latest state; replaced whole on each change (one frozen map, no deep watch). */
  const jobs = shallowRef<ReadonlyMap<string, JobProgress>>(new Map());

  function ingestJob(job: JobProgress): void {
    const held = jobs.value.get(job.job_id);
    if (!supersedes(held, job)) return;
    const next = new Map(jobs.value);
    next.delete(job.job_id); // re-insert last: the map stays in order of last change
    next.set(job.job_id, Object.freeze({ ...job }));
    while (next.size > MAX_JOBS) next.delete(next.keys().next().value as string);
    jobs.value = next;
  }

  function get(jobId: string | null | undefined): JobProgress | null {
    return jobId ? (jobs.value.get(jobId) ?? null) : null;
  }

  return { jobs, ingestJob, get };
});
