/**
 * Reconnect delays: exponential growth with "equal jitter" (half fixed, half random), capped.
 * The fixed half keeps a crowd of dashboards from hammering a restarting gateway; the random
 * half spreads them out so they do not all come back in the same millisecond.
 */

export interface BackoffPolicy {
  /** Delay scale of the first retry, in ms. */
  baseMs: number;
  /** No delay exceeds this, in ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 10_000 };

/**
 * The wait before retry number `attempt` (1 for the first retry), in ms:
 * `e/2 + random() * e/2` with `e = min(cap, base * 2^(attempt-1))`, so it lies in [e/2, e].
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const step = Math.max(1, Math.floor(attempt));
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(step - 1, 30));
  const half = exp / 2;
  return Math.round(half + random() * half);
}
