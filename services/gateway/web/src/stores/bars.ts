/**
 * Live bars and ticks. The chart registers a listener per symbol and applies each bar to its
 * series directly (no reactive copy of a price history); the last bar and last trade of
 * each symbol are kept for small readouts.
 */
import { defineStore } from 'pinia';
import { shallowReactive } from 'vue';
import type { Bar, Tick } from '../types/messages';

export type BarListener = (bar: Bar) => void;

export const useBarsStore = defineStore('bars', () => {
  const lastBar = shallowReactive(new Map<string, Bar>());
  const lastTick = shallowReactive(new Map<string, Tick>());
  const listeners = new Map<string, Set<BarListener>>();

  function ingestBar(bar: Bar): void {
    const known = lastBar.get(bar.symbol);
    if (!known || bar.ts >= known.ts) lastBar.set(bar.symbol, bar);
    for (const listener of listeners.get(bar.symbol) ?? []) listener(bar);
  }

  function ingestTick(tick: Tick): void {
    lastTick.set(tick.symbol, tick);
  }

  /** Calls `listener` with every live bar of `symbol`; returns the function that stops it. */
  function onBar(symbol: string, listener: BarListener): () => void {
    let set = listeners.get(symbol);
    if (!set) {
      set = new Set();
      listeners.set(symbol, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) listeners.delete(symbol);
    };
  }

  return { lastBar, lastTick, ingestBar, ingestTick, onBar };
});
