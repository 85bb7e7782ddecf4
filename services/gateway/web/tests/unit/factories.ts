/**
 * Builders of valid messages and REST rows for the tests, typed by the generated message
 * types, so a contract change that breaks them fails type-checking here too.
 */
import type { SignalRow, StageName } from '../../src/types/api';
import type {
  Allocation,
  Bar,
  CandidateSignal,
  ConfirmedSignal,
  Fill,
  StageScore,
} from '../../src/types/messages';

export function stage(name: StageName, score: number, passed = true, minimum = 0.3): StageScore {
  return {
    type: 'stage_score',
    schema_version: 1,
    stage: name,
    score,
    minimum,
    passed,
    neutral: false,
    reason: `${name} scored ${score}`,
    details: {},
  };
}

const day = (date: string): string => `${date}T00:00:00Z`;

export function candidate(symbol: string, date: string, setup = 'trend_pullback', base = 0.7): CandidateSignal {
  return {
    type: 'candidate_signal',
    schema_version: 1,
    id: `${symbol}-${date.replaceAll('-', '')}-${setup}`,
    symbol,
    ts: day(date),
    setup,
    direction: 'long',
    close: 100,
    atr: 2,
    base: stage('base_signal', base),
    features: { rsi_14: 48.2, sma_200: null },
    ts_event: day(date),
  };
}

export function confirmed(symbol: string, date: string, total: number, setup = 'trend_pullback'): ConfirmedSignal {
  return {
    type: 'confirmed_signal',
    schema_version: 1,
    id: `${symbol}-${date.replaceAll('-', '')}-${setup}`,
    symbol,
    ts: day(date),
    setup,
    direction: 'long',
    entry: 100,
    stop: 96,
    target: 108,
    stages: [stage('base_signal', 0.7), stage('confirmation', 0.6), stage('ml_confidence', 0.5), stage('entry_timing', 0.8)],
    weights: { base_signal: 0.3, confirmation: 0.25, ml_confidence: 0.25, entry_timing: 0.2 },
    total,
    threshold: 0.6,
    model_version: null,
    ml_contributions: [],
    reason: 'all stages passed',
    ts_event: day(date),
  };
}

export function row(
  symbol: string,
  date: string,
  total: number,
  status: 'confirmed' | 'rejected' = 'rejected',
  setup = 'trend_pullback',
): SignalRow {
  const rejected = status === 'rejected';
  return {
    id: `${symbol}-${date.replaceAll('-', '')}-${setup}`,
    symbol,
    ts: day(date),
    setup,
    status,
    rejected_by: rejected ? 'threshold' : null,
    total,
    threshold: 0.6,
    stages: [stage('base_signal', 0.6), stage('confirmation', 0.5)],
    weights: { base_signal: 0.3, confirmation: 0.25, ml_confidence: 0.25, entry_timing: 0.2 },
    entry: rejected ? null : 100,
    stop: rejected ? null : 95,
    target: rejected ? null : 110,
    model_version: null,
    ml_contributions: [],
    reason: rejected ? 'total below threshold' : 'confirmed',
    created_at: day(date),
  };
}

export function bar(symbol: string, ts: string, close = 101): Bar {
  return {
    type: 'bar',
    schema_version: 1,
    symbol,
    interval: '1d',
    ts,
    open: 100,
    high: Math.max(close, 100) + 1,
    low: Math.min(close, 100) - 1,
    close,
    volume: 1_000_000,
  };
}

export function allocation(id: string, symbol: string, ts: string): Allocation {
  return {
    type: 'allocation',
    schema_version: 1,
    id,
    signal_id: `${symbol}-sig`,
    symbol,
    ts,
    side: 'buy',
    quantity: 10,
    price: 100,
    stop: 95,
    target: 110,
    risk_amount: 50,
    weight: 0.1,
    cash_after: 9000,
    reason: 'risk 0.5% of equity',
    ts_event: ts,
  };
}

export function fill(id: string, symbol: string, ts: string): Fill {
  return {
    type: 'fill',
    schema_version: 1,
    id,
    allocation_id: `${id}-alloc`,
    symbol,
    ts,
    side: 'buy',
    quantity: 10,
    price: 100.05,
    commission: 1,
    slippage: 0.05,
    reason: '',
    ts_event: ts,
  };
}
