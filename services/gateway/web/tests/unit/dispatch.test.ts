import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { dispatch, type LiveSinks } from '../../src/lib/dispatch';
import { useAllocationsStore } from '../../src/stores/allocations';
import { useBarsStore } from '../../src/stores/bars';
import { useConnectionStore } from '../../src/stores/connection';
import { useJobsStore } from '../../src/stores/jobs';
import { useSignalsStore } from '../../src/stores/signals';
import { useWeightsStore } from '../../src/stores/weights';
import type { ServerEnvelope } from '../../src/types/api';
import { allocation, bar, candidate, confirmed, fill } from './factories';

/** Sinks that record each call as `sink.method`. */
function recordingSinks() {
  const calls: string[] = [];
  const rec = (name: string) => (..._args: unknown[]) => void calls.push(name);
  const sinks: LiveSinks = {
    signals: { ingestCandidate: rec('signals.candidate'), ingestConfirmed: rec('signals.confirmed') },
    allocations: { ingestAllocation: rec('allocations.allocation'), ingestFill: rec('allocations.fill') },
    bars: { ingestBar: rec('bars.bar'), ingestTick: rec('bars.tick') },
    weights: { ingestUpdate: rec('weights.update') },
    jobs: { ingestJob: rec('jobs.job') },
    connection: {
      count: (kind) => void calls.push(`count.${kind}`),
      noteBar: rec('connection.bar'),
      noteDropped: (n) => void calls.push(`dropped.${n}`),
      noteHello: rec('connection.hello'),
      noteModel: (v) => void calls.push(`model.${v}`),
    },
  };
  return { calls, sinks };
}

const env = (e: unknown): ServerEnvelope => e as ServerEnvelope;

describe('dispatch by message type', () => {
  it('routes each live message to its store and counts it', () => {
    const { calls, sinks } = recordingSinks();
    dispatch(env({ channel: 'signals', type: 'candidate_signal', data: candidate('A', '2024-05-01') }), sinks);
    dispatch(env({ channel: 'signals', type: 'confirmed_signal', data: confirmed('A', '2024-05-01', 0.7) }), sinks);
    dispatch(env({ channel: 'allocations', type: 'allocation', data: allocation('x', 'A', '2024-05-01T00:00:00Z') }), sinks);
    dispatch(env({ channel: 'fills', type: 'fill', data: fill('f', 'A', '2024-05-01T00:00:00Z') }), sinks);
    dispatch(env({ channel: 'bars:A', type: 'bar', data: bar('A', '2024-05-01T00:00:00Z') }), sinks);
    expect(calls).toEqual([
      'signals.candidate',
      'count.signals',
      'signals.confirmed',
      'count.confirmed',
      'allocations.allocation',
      'count.allocations',
      'allocations.fill',
      'count.fills',
      'bars.bar',
      'connection.bar',
      'count.bars',
    ]);
  });

  it('handles the system channel: drops, hello, heartbeats', () => {
    const { calls, sinks } = recordingSinks();
    dispatch(env({ channel: 'system', type: 'dropped', data: { count: 7 } }), sinks);
    dispatch(env({ channel: 'system', type: 'hello', data: { channels: ['signals'] } }), sinks);
    dispatch(env({ channel: 'system', type: 'heartbeat', data: {} }), sinks);
    dispatch(env({ channel: 'models', type: 'model_updated', data: { version: 'v3' } }), sinks);
    expect(calls).toEqual(['dropped.7', 'connection.hello', 'model.v3']);
  });

  it('hands job progress to the jobs store', () => {
    const { calls, sinks } = recordingSinks();
    const job = { type: 'job_progress', job_id: 'job-1', kind: 'train', status: 'running' };
    dispatch(env({ channel: 'jobs', type: 'job_progress', data: job }), sinks);
    expect(calls).toEqual(['jobs.job']);
  });

  it('counts and ignores a type it does not know instead of failing', () => {
    const { calls, sinks } = recordingSinks();
    expect(() => dispatch(env({ channel: 'x', type: 'from_the_future', data: {} }), sinks)).not.toThrow();
    dispatch(env({ channel: 'x', type: 'scan_job', data: {} }), sinks);
    expect(calls).toEqual(['count.ignored', 'count.ignored']);
  });
});

describe('dispatch into the Pinia stores', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('lands live messages in the stores and the status counters', () => {
    const sinks = {
      signals: useSignalsStore(),
      allocations: useAllocationsStore(),
      bars: useBarsStore(),
      weights: useWeightsStore(),
      jobs: useJobsStore(),
      connection: useConnectionStore(),
    };
    const seen: string[] = [];
    const stop = sinks.bars.onBar('AAPL', (b) => seen.push(b.ts));
    dispatch(env({ channel: 'signals', type: 'candidate_signal', data: candidate('AAPL', '2024-05-01') }), sinks);
    dispatch(env({ channel: 'signals', type: 'confirmed_signal', data: confirmed('MSFT', '2024-05-01', 0.7) }), sinks);
    dispatch(env({ channel: 'allocations', type: 'allocation', data: allocation('a1', 'MSFT', '2024-05-01T00:00:00Z') }), sinks);
    dispatch(env({ channel: 'bars:AAPL', type: 'bar', data: bar('AAPL', '2024-05-02T00:00:00Z') }), sinks);
    dispatch(env({ channel: 'bars:AAPL', type: 'bar', data: bar('AAPL', '2024-05-01T00:00:00Z') }), sinks);
    dispatch(env({ channel: 'system', type: 'dropped', data: { count: 4 } }), sinks);
    dispatch(
      env({ channel: 'weights', type: 'weights_updated', data: { weights: { base_signal: 0.4, confirmation: 0.2, ml_confidence: 0.2, entry_timing: 0.2 }, confirm_threshold: 0.65 } }),
      sinks,
    );
    sinks.signals.flush();
    sinks.connection.flush();
    stop();

    expect(sinks.signals.ranked.map((v) => `${v.symbol}:${v.status}`)).toEqual(['MSFT:confirmed', 'AAPL:candidate']);
    expect(sinks.allocations.items.map((a) => a.id)).toEqual(['a1']);
    expect(sinks.connection.counts).toMatchObject({ signals: 1, confirmed: 1, allocations: 1, bars: 2 });
    expect(sinks.connection.dropped).toBe(4);
    expect(sinks.connection.lastBarTs).toBe('2024-05-02T00:00:00Z');
    expect(sinks.bars.lastBar.get('AAPL')?.ts).toBe('2024-05-02T00:00:00Z');
    expect(seen).toEqual(['2024-05-02T00:00:00Z', '2024-05-01T00:00:00Z']);
    expect(sinks.weights.config?.weights.base_signal).toBe(0.4);
    expect(sinks.weights.config?.confirm_threshold).toBe(0.65);
  });
});
