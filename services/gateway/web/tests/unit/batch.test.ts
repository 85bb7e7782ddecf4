import { describe, expect, it } from 'vitest';
import { createBatcher, type Scheduler } from '../../src/lib/batch';

function manualScheduler() {
  const queued: (() => void)[] = [];
  const schedule: Scheduler = (callback) => {
    queued.push(callback);
    return () => {
      const i = queued.indexOf(callback);
      if (i >= 0) queued.splice(i, 1);
    };
  };
  return { schedule, queued, runFrame: () => queued.splice(0).forEach((cb) => cb()) };
}

describe('createBatcher', () => {
  it('delivers everything pushed within one frame as a single batch', () => {
    const frames = manualScheduler();
    const batches: number[][] = [];
    const batcher = createBatcher<number>((items) => batches.push(items), frames.schedule);
    for (let i = 0; i < 50; i += 1) batcher.push(i);
    expect(frames.queued).toHaveLength(1);
    expect(batches).toHaveLength(0);
    frames.runFrame();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(50);
    expect(batches[0]?.[49]).toBe(49);
  });

  it('schedules a new frame only after the previous batch went out', () => {
    const frames = manualScheduler();
    const batches: number[][] = [];
    const batcher = createBatcher<number>((items) => batches.push(items), frames.schedule);
    batcher.push(1);
    frames.runFrame();
    batcher.push(2);
    batcher.push(3);
    frames.runFrame();
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('flushes on demand and cancels the pending frame', () => {
    const frames = manualScheduler();
    const batches: string[][] = [];
    const batcher = createBatcher<string>((items) => batches.push(items), frames.schedule);
    batcher.push('a');
    batcher.flush();
    expect(batches).toEqual([['a']]);
    expect(frames.queued).toHaveLength(0);
    expect(batcher.size).toBe(0);
    batcher.flush();
    expect(batches).toHaveLength(1);
  });
});
