/**
 * One shape for a signal on screen, whether it came from `GET /api/signals` (an evaluated
 * row), or live as a `candidate_signal` (base stage only) or a `confirmed_signal`. Pure
 * functions: converting, merging two sightings of the same id, ranking, filtering.
 */
import type { CandidateSignal, ConfirmedSignal, FeatureContribution, StageScore } from '../types/messages';
import type { SignalRow, StageName } from '../types/api';

export type SignalStatus = 'candidate' | 'confirmed' | 'rejected';

export interface SignalView {
  readonly id: string;
  readonly symbol: string;
  readonly ts: string;
  readonly setup: string;
  readonly status: SignalStatus;
  readonly rejectedBy: StageName | 'threshold' | null;
  /** Weighted total; null while only the base stage has spoken (a live candidate). */
  readonly total: number | null;
  readonly threshold: number | null;
  readonly stages: readonly StageScore[];
  readonly entry: number | null;
  readonly stop: number | null;
  readonly target: number | null;
  readonly reason: string;
  readonly modelVersion: string | null;
  readonly mlContributions: readonly FeatureContribution[];
  /** Order of first sighting in this page's life; breaks ties and picks what to evict. */
  readonly seq: number;
}

export function fromRow(row: SignalRow, seq: number): SignalView {
  return Object.freeze({
    id: row.id,
    symbol: row.symbol,
    ts: row.ts,
    setup: row.setup,
    status: row.status,
    rejectedBy: row.rejected_by,
    total: row.total,
    threshold: row.threshold,
    stages: row.stages,
    entry: row.entry,
    stop: row.stop,
    target: row.target,
    reason: row.reason,
    modelVersion: row.model_version,
    mlContributions: row.ml_contributions,
    seq,
  });
}

export function fromCandidate(msg: CandidateSignal, seq: number): SignalView {
  return Object.freeze({
    id: msg.id,
    symbol: msg.symbol,
    ts: msg.ts,
    setup: msg.setup,
    status: 'candidate',
    rejectedBy: null,
    total: null,
    threshold: null,
    stages: [msg.base],
    entry: null,
    stop: null,
    target: null,
    reason: msg.base.reason,
    modelVersion: null,
    mlContributions: [],
    seq,
  });
}

export function fromConfirmed(msg: ConfirmedSignal, seq: number): SignalView {
  return Object.freeze({
    id: msg.id,
    symbol: msg.symbol,
    ts: msg.ts,
    setup: msg.setup,
    status: 'confirmed',
    rejectedBy: null,
    total: msg.total,
    threshold: msg.threshold,
    stages: msg.stages,
    entry: msg.entry,
    stop: msg.stop,
    target: msg.target,
    reason: msg.reason,
    modelVersion: msg.model_version,
    mlContributions: msg.ml_contributions,
    seq,
  });
}

/**
 * The view after `incoming` is seen for an id already shown as `existing`. An evaluation
 * (confirmed or rejected) is never downgraded to a bare candidate by a late or replayed
 * candidate message; otherwise the newer sighting wins. The first sighting's `seq` is kept.
 */
export function mergeSignal(existing: SignalView | undefined, incoming: SignalView): SignalView {
  if (!existing) return incoming;
  if (incoming.status === 'candidate' && existing.status !== 'candidate') return existing;
  if (incoming.seq === existing.seq) return incoming;
  return Object.freeze({ ...incoming, seq: existing.seq });
}

export const baseScore = (view: SignalView): number =>
  view.stages.find((s) => s.stage === 'base_signal')?.score ?? 0;

const byTsDesc = (a: SignalView, b: SignalView): number =>
  a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0;

const byIdentity = (a: SignalView, b: SignalView): number =>
  a.symbol.localeCompare(b.symbol) || a.id.localeCompare(b.id);

/** Ranking by score: evaluated signals by total, then candidates by base score; newer first. */
export function compareByScore(a: SignalView, b: SignalView): number {
  if (a.total !== null && b.total !== null && a.total !== b.total) return b.total - a.total;
  if (a.total !== null && b.total === null) return -1;
  if (a.total === null && b.total !== null) return 1;
  if (a.total === null && b.total === null) {
    const diff = baseScore(b) - baseScore(a);
    if (diff !== 0) return diff;
  }
  return byTsDesc(a, b) || byIdentity(a, b);
}

/** Newest bar first, then by score. */
export function compareByNewest(a: SignalView, b: SignalView): number {
  return byTsDesc(a, b) || compareByScore(a, b);
}

export type SortKey = 'score' | 'newest';

export const comparators: Record<SortKey, (a: SignalView, b: SignalView) => number> = {
  score: compareByScore,
  newest: compareByNewest,
};

/** Which views to forget when over `cap`: the oldest bars, first-seen first. */
export function evictionVictims(views: Iterable<SignalView>, cap: number): SignalView[] {
  const all = [...views];
  if (all.length <= cap) return [];
  all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq));
  return all.slice(0, all.length - cap);
}
