/**
 * Wires the one WebSocket client to the Pinia stores, and gives views `useChannels` to hold
 * a subscription for as long as they are mounted.
 */
import { onBeforeUnmount, onMounted, toValue, watch, type MaybeRefOrGetter } from 'vue';
import { dispatch } from './dispatch';
import { WsClient } from './ws';
import { useAllocationsStore } from '../stores/allocations';
import { useBarsStore } from '../stores/bars';
import { useConnectionStore } from '../stores/connection';
import { useJobsStore } from '../stores/jobs';
import { useSignalsStore } from '../stores/signals';
import { useWeightsStore } from '../stores/weights';

/** Channels every page wants: the status bar counts them everywhere. */
export const GLOBAL_CHANNELS = ['signals', 'allocations', 'fills', 'models', 'weights'];

let client: WsClient | null = null;

export function wsUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** Creates and connects the client (once); call after Pinia is installed. */
export function startLive(): WsClient {
  if (client) return client;
  const sinks = {
    signals: useSignalsStore(),
    allocations: useAllocationsStore(),
    bars: useBarsStore(),
    weights: useWeightsStore(),
    jobs: useJobsStore(),
    connection: useConnectionStore(),
  };
  client = new WsClient({
    url: wsUrl(),
    onEnvelope: (envelope) => dispatch(envelope, sinks),
    onStatus: (status) => sinks.connection.setStatus(status),
    onMalformed: () => sinks.connection.count('ignored'),
  });
  client.subscribe(GLOBAL_CHANNELS);
  client.connect();
  return client;
}

export function liveClient(): WsClient | null {
  return client;
}

/** Subscribes to `channels` while the calling component is mounted; follows changes. */
export function useChannels(channels: MaybeRefOrGetter<readonly string[]>): void {
  let held: readonly string[] = [];
  const hold = (next: readonly string[]): void => {
    const previous = held;
    held = [...next];
    client?.subscribe(held);
    client?.unsubscribe(previous);
  };
  onMounted(() => hold(toValue(channels)));
  watch(() => toValue(channels).join(','), () => hold(toValue(channels)));
  onBeforeUnmount(() => {
    client?.unsubscribe(held);
    held = [];
  });
}
