/**
 * The live link's state for the status bar: WebSocket state and reconnect attempt, what was
 * received live (counted per animation frame, not per message), drops the gateway reported,
 * the last bar time and the last model announced.
 */
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { createBatcher } from '../lib/batch';
import type { WsStatus } from '../lib/ws';

export type LiveCounter = 'signals' | 'confirmed' | 'allocations' | 'fills' | 'bars' | 'ignored';

export interface Readiness {
  checked: boolean;
  reachable: boolean;
  nats: boolean;
  database: boolean;
}

export const useConnectionStore = defineStore('connection', () => {
  const ws = ref<WsStatus>({ state: 'idle', attempt: 0 });
  const counts = reactive<Record<LiveCounter, number>>({
    signals: 0,
    confirmed: 0,
    allocations: 0,
    fills: 0,
    bars: 0,
    ignored: 0,
  });
  const dropped = ref(0);
  const lastBarTs = ref<string | null>(null);
  const lastMessageAt = ref<number | null>(null);
  const serverChannels = ref<string[]>([]);
  const modelVersion = ref<string | null>(null);
  const readiness = ref<Readiness>({ checked: false, reachable: false, nats: false, database: false });

  const counter = createBatcher<LiveCounter>((items) => {
    for (const item of items) counts[item] += 1;
    lastMessageAt.value = Date.now();
  });

  function setStatus(status: WsStatus): void {
    ws.value = status;
  }

  function count(kind: LiveCounter): void {
    counter.push(kind);
  }

  function noteBar(ts: string): void {
    if (lastBarTs.value === null || ts > lastBarTs.value) lastBarTs.value = ts;
  }

  function noteDropped(n: number): void {
    if (Number.isFinite(n) && n > 0) dropped.value += n;
  }

  function noteHello(channels: string[]): void {
    serverChannels.value = [...channels];
  }

  function noteModel(version: string): void {
    modelVersion.value = version;
  }

  function setReadiness(value: Readiness): void {
    readiness.value = value;
  }

  return {
    ws,
    counts,
    dropped,
    lastBarTs,
    lastMessageAt,
    serverChannels,
    modelVersion,
    readiness,
    setStatus,
    count,
    flush: counter.flush,
    noteBar,
    noteDropped,
    noteHello,
    noteModel,
    setReadiness,
  };
});
