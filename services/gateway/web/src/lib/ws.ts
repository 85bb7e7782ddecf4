/**
 * The dashboard's one WebSocket to the gateway (`/ws`).
 *
 * It reconnects on its own with exponential backoff and jitter, re-sends the current channel
 * set after each reconnect, and treats 40 s of silence as a dead link (the gateway sends a
 * heartbeat every 15 s), so a half-open connection is replaced rather than trusted. The backoff
 * resets only once a link carries a frame, so a server that accepts and at once drops the
 * connection is still retried ever more slowly. Channels
 * are reference-counted: two views that both want `bars:AAPL` share one subscription, and it
 * is dropped only when the last one lets go. Frames are parsed here and handed on as typed
 * envelopes; routing them into stores is `dispatch.ts`'s job.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import type { ClientFrame, ServerEnvelope } from '../types/api';

/** The part of the browser's WebSocket this client uses, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export type WsState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface WsStatus {
  state: WsState;
  /** The reconnect attempt in progress or pending (0 while connected). */
  attempt: number;
}

export interface WsClientOptions {
  url: string;
  onEnvelope: (envelope: ServerEnvelope) => void;
  onStatus?: (status: WsStatus) => void;
  /** Called with a frame that is not a valid envelope (it is otherwise ignored). */
  onMalformed?: (raw: unknown) => void;
  createSocket?: SocketFactory;
  backoff?: BackoffPolicy;
  random?: () => number;
  heartbeatTimeoutMs?: number;
}

const OPEN = 1;
export const HEARTBEAT_TIMEOUT_MS = 40_000;

/** Parses one frame; null unless it is an object with string `channel`/`type` and `data`. */
export function parseEnvelope(raw: unknown): ServerEnvelope | null {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (typeof value !== 'object' || value === null) return null;
  const frame = value as Record<string, unknown>;
  if (typeof frame.channel !== 'string' || typeof frame.type !== 'string') return null;
  if (typeof frame.data !== 'object' || frame.data === null) return null;
  return frame as unknown as ServerEnvelope;
}

const defaultFactory: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

export class WsClient {
  private readonly options: WsClientOptions;
  private readonly createSocket: SocketFactory;
  private readonly heartbeatTimeoutMs: number;
  private socket: SocketLike | null = null;
  private readonly refs = new Map<string, number>();
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdogTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  /** Failed tries since a link last carried a frame; resets on a frame, not on open. */
  private failures = 0;
  private current: WsStatus = { state: 'idle', attempt: 0 };

  constructor(options: WsClientOptions) {
    this.options = options;
    this.createSocket = options.createSocket ?? defaultFactory;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
  }

  get status(): WsStatus {
    return { ...this.current };
  }

  /** The channels wanted now (what is re-sent after a reconnect). */
  get channels(): string[] {
    return [...this.refs.keys()].sort();
  }

  /** Starts connecting; a no-op while already started. */
  connect(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.openSocket();
  }

  /** Closes for good: no reconnect until `connect()` is called again. */
  close(): void {
    this.stopped = true;
    this.failures = 0;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client closed');
    this.setStatus('closed', 0);
  }

  subscribe(channels: readonly string[]): void {
    const added: string[] = [];
    for (const channel of channels) {
      const count = this.refs.get(channel) ?? 0;
      this.refs.set(channel, count + 1);
      if (count === 0) added.push(channel);
    }
    if (added.length > 0) this.send({ type: 'subscribe', channels: added });
  }

  unsubscribe(channels: readonly string[]): void {
    const removed: string[] = [];
    for (const channel of channels) {
      const count = this.refs.get(channel) ?? 0;
      if (count <= 1) {
        if (count === 1) removed.push(channel);
        this.refs.delete(channel);
      } else {
        this.refs.set(channel, count - 1);
      }
    }
    if (removed.length > 0) this.send({ type: 'unsubscribe', channels: removed });
  }

  private send(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  private openSocket(): void {
    this.reconnectTimer = null;
    this.setStatus(this.failures > 0 ? 'reconnecting' : 'connecting', this.failures);
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.setStatus('open', 0);
      this.armWatchdog();
      const channels = this.channels;
      if (channels.length > 0) this.send({ type: 'subscribe', channels });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.armWatchdog();
      const envelope = parseEnvelope(event.data);
      if (envelope) this.options.onEnvelope(envelope);
      else this.options.onMalformed?.(event.data);
    };
    socket.onerror = () => {
      // A close event always follows an error; reconnecting is handled there.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearWatchdog();
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== null) return;
    this.failures += 1;
    this.setStatus('reconnecting', this.failures);
    const delay = backoffDelay(this.failures, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    this.reconnectTimer = setTimeout(() => this.openSocket(), delay);
  }

  /** Silence for `heartbeatTimeoutMs` means the link is dead: drop it and reconnect. */
  private armWatchdog(): void {
    this.clearWatchdog();
    this.watchdogTimer = setTimeout(() => {
      this.watchdogTimer = null;
      const socket = this.socket;
      this.socket = null;
      socket?.close(4000, 'heartbeat timeout');
      this.scheduleReconnect();
    }, this.heartbeatTimeoutMs);
  }

  private clearWatchdog(): void {
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer);
    this.watchdogTimer = null;
  }

  private clearTimers(): void {
    this.clearWatchdog();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setStatus(state: WsState, attempt: number): void {
    if (this.current.state === state && this.current.attempt === attempt) return;
    this.current = { state, attempt };
    this.options.onStatus?.({ ...this.current });
  }
}
