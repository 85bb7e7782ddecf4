/**
 * Routes each WebSocket envelope to the store that owns its data, by message `type`.
 * The switch is over the typed union, so `data` is narrowed to the right message in every
 * branch, and a message type the gateway adds later is counted and ignored, not a crash.
 */
import type { ServerEnvelope } from '../types/api';
import type {
  Allocation,
  Bar,
  CandidateSignal,
  ConfirmedSignal,
  Fill,
  JobProgress,
  Tick,
  WeightsUpdated,
} from '../types/messages';
import type { LiveCounter } from '../stores/connection';

/** What dispatch needs from the stores (the Pinia stores satisfy it; tests pass fakes). */
export interface LiveSinks {
  signals: {
    ingestCandidate(message: CandidateSignal): void;
    ingestConfirmed(message: ConfirmedSignal): void;
  };
  allocations: {
    ingestAllocation(message: Allocation): void;
    ingestFill(message: Fill): void;
  };
  bars: {
    ingestBar(message: Bar): void;
    ingestTick(message: Tick): void;
  };
  weights: {
    ingestUpdate(message: WeightsUpdated): void;
  };
  jobs: {
    ingestJob(message: JobProgress): void;
  };
  connection: {
    count(kind: LiveCounter): void;
    noteBar(ts: string): void;
    noteDropped(count: number): void;
    noteHello(channels: string[]): void;
    noteModel(version: string): void;
  };
}

export function dispatch(envelope: ServerEnvelope, sinks: LiveSinks): void {
  const { connection } = sinks;
  switch (envelope.type) {
    case 'candidate_signal':
      sinks.signals.ingestCandidate(envelope.data);
      connection.count('signals');
      return;
    case 'confirmed_signal':
      sinks.signals.ingestConfirmed(envelope.data);
      connection.count('confirmed');
      return;
    case 'allocation':
      sinks.allocations.ingestAllocation(envelope.data);
      connection.count('allocations');
      return;
    case 'fill':
      sinks.allocations.ingestFill(envelope.data);
      connection.count('fills');
      return;
    case 'bar':
      sinks.bars.ingestBar(envelope.data);
      connection.noteBar(envelope.data.ts);
      connection.count('bars');
      return;
    case 'tick':
      sinks.bars.ingestTick(envelope.data);
      return;
    case 'weights_updated':
      sinks.weights.ingestUpdate(envelope.data);
      return;
    case 'job_progress':
      sinks.jobs.ingestJob(envelope.data);
      return;
    case 'model_updated':
      connection.noteModel(envelope.data.version);
      return;
    case 'hello':
      connection.noteHello(Array.isArray(envelope.data.channels) ? envelope.data.channels : []);
      return;
    case 'dropped':
      connection.noteDropped(Number(envelope.data.count));
      return;
    case 'heartbeat':
    case 'pong':
      return; // their arrival already fed the client's watchdog
    case 'dead_letter':
    case 'feature_contribution':
    case 'feature_rows':
    case 'ml_predict_reply':
    case 'ml_predict_request':
    case 'ml_prediction':
    case 'prediction_rows':
    case 'scan_job':
    case 'stage_score':
      connection.count('ignored'); // internal messages no channel should carry
      return;
    default: {
      const unknown: never = envelope;
      void unknown;
      connection.count('ignored');
    }
  }
}
