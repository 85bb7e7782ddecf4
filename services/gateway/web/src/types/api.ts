/**
 * The gateway's REST answers and WebSocket envelopes (docs/api.md). The NATS messages they
 * carry come from the generated `messages.ts`; only the wrappers are written here.
 */
import type {
  Allocation,
  AnyMessage,
  FeatureContribution,
  StageScore,
} from './messages';

export type StageName = StageScore['stage'];
export type StageWeights = Record<StageName, number>;

/** One evaluated signal as stored by the signals service. */
export interface SignalRow {
  id: string;
  symbol: string;
  ts: string;
  setup: string;
  status: 'confirmed' | 'rejected';
  /** The stage that refused it, "threshold", or null when confirmed. */
  rejected_by: StageName | 'threshold' | null;
  total: number;
  threshold: number;
  stages: StageScore[];
  weights: Partial<StageWeights>;
  entry: number | null;
  stop: number | null;
  target: number | null;
  model_version: string | null;
  ml_contributions: FeatureContribution[];
  reason: string;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type SignalsPage = Page<SignalRow>;
export type AllocationsPage = Page<Allocation>;

export interface FunnelStage {
  stage: string;
  passed: number;
  rejected: number;
}

export interface Funnel {
  candidates: number;
  confirmed: number;
  rejected: number;
  stages: FunnelStage[];
}

export interface OhlcvBar {
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface Analysis {
  symbol: string;
  bars: OhlcvBar[];
  /** Arrays aligned with `bars`; null while an indicator warms up. */
  indicators: Record<string, (number | null)[]>;
  latest: Record<string, number | null>;
  signals: SignalRow[];
  latest_evaluation: SignalRow | null;
}

export interface Position {
  symbol: string;
  quantity: number;
  avg_price: number;
  last_price: number;
  market_value: number;
  weight: number;
  stop: number | null;
  target: number | null;
  unrealized_pnl: number;
}

export interface Portfolio {
  as_of: string;
  cash: number;
  equity: number;
  positions: Position[];
}

export interface WeightsConfig {
  weights: StageWeights;
  confirm_threshold: number;
  stage_minimums: Partial<Record<StageName, number>>;
}

export interface WeightsUpdate {
  weights: StageWeights;
  confirm_threshold?: number;
}

export interface Readiness {
  status: 'ok' | 'degraded';
  checks: { nats: boolean; database: boolean };
}

/** A server -> client frame carrying one NATS message. */
export type MessageEnvelope<M extends AnyMessage = AnyMessage> = M extends AnyMessage
  ? { channel: string; type: M['type']; data: M }
  : never;

/** Frames of the always-on `system` channel (not NATS messages, so typed here). */
export type SystemEnvelope =
  | { channel: 'system'; type: 'hello'; data: { channels: string[] } }
  | { channel: 'system'; type: 'heartbeat'; data: Record<string, unknown> }
  | { channel: 'system'; type: 'dropped'; data: { count: number } }
  | { channel: 'system'; type: 'pong'; data: Record<string, unknown> };

export type ServerEnvelope = MessageEnvelope | SystemEnvelope;

export type ClientFrame =
  | { type: 'subscribe'; channels: string[] }
  | { type: 'unsubscribe'; channels: string[] }
  | { type: 'ping' };

/** Pipeline order of the stages; a Record so the compiler demands every generated name. */
const STAGE_ORDER: Record<StageName, number> = {
  base_signal: 0,
  confirmation: 1,
  ml_confidence: 2,
  entry_timing: 3,
};

export const STAGES: readonly StageName[] = (Object.keys(STAGE_ORDER) as StageName[]).sort(
  (a, b) => STAGE_ORDER[a] - STAGE_ORDER[b],
);
