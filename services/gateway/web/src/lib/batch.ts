/**
 * Collects live items and hands them over at most once per animation frame, so 50 messages a
 * second cost one store update (and one render) per frame instead of fifty. A timer backs up
 * the frame callback, because browsers pause animation frames in hidden tabs and the queue
 * must not grow without bound there.
 */

/** Runs `callback` soon; returns a function that cancels it. */
export type Scheduler = (callback: () => void) => () => void;

const FALLBACK_MS = 250;

/** Next animation frame or `FALLBACK_MS`, whichever comes first. */
export const frameScheduler: Scheduler = (callback) => {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    cancel();
    callback();
  };
  const frame =
    typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : null;
  const timer = setTimeout(run, FALLBACK_MS);
  function cancel(): void {
    if (frame !== null && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(frame);
    clearTimeout(timer);
  }
  return () => {
    done = true;
    cancel();
  };
};

export interface Batcher<T> {
  push(item: T): void;
  /** Delivers whatever is queued now (tests, or before reading the store). */
  flush(): void;
  readonly size: number;
}

export function createBatcher<T>(
  deliver: (items: T[]) => void,
  schedule: Scheduler = frameScheduler,
): Batcher<T> {
  let queue: T[] = [];
  let cancel: (() => void) | null = null;
  const flush = (): void => {
    cancel?.();
    cancel = null;
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    deliver(items);
  };
  return {
    push(item: T): void {
      queue.push(item);
      if (cancel === null) cancel = schedule(flush);
    },
    flush,
    get size(): number {
      return queue.length;
    },
  };
}
