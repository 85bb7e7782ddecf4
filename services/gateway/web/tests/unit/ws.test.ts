import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../src/lib/backoff';
import { parseEnvelope, WsClient, type SocketLike, type WsStatus } from '../../src/lib/ws';
import type { ServerEnvelope } from '../../src/types/api';

/** A stand-in for the browser WebSocket that the test drives by hand. */
class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  readonly sent: unknown[] = [];
  closedWith: { code?: number; reason?: string } | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedWith = { code, reason };
  }

  serverAccepts(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSends(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  serverDrops(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
}

const policy = { baseMs: 500, capMs: 10_000 };
const heartbeat = { channel: 'system', type: 'heartbeat', data: {} };

function setup(random = () => 0.5) {
  const sockets: FakeSocket[] = [];
  const envelopes: ServerEnvelope[] = [];
  const statuses: WsStatus[] = [];
  const malformed: unknown[] = [];
  const client = new WsClient({
    url: 'ws://127.0.0.1:8000/ws',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    onEnvelope: (e) => envelopes.push(e),
    onStatus: (s) => statuses.push(s),
    onMalformed: (raw) => malformed.push(raw),
    backoff: policy,
    random,
  });
  const last = (): FakeSocket => {
    const socket = sockets[sockets.length - 1];
    if (!socket) throw new Error('no socket was created');
    return socket;
  };
  return { client, sockets, envelopes, statuses, malformed, last };
}

describe('WsClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the channels wanted before the link opened in one subscribe on open', () => {
    const { client, last } = setup();
    client.subscribe(['signals', 'allocations']);
    client.subscribe(['bars:AAPL']);
    client.connect();
    expect(client.status.state).toBe('connecting');
    last().serverAccepts();
    expect(client.status).toEqual({ state: 'open', attempt: 0 });
    expect(last().sent).toEqual([{ type: 'subscribe', channels: ['allocations', 'bars:AAPL', 'signals'] }]);
  });

  it('passes parsed envelopes on and reports malformed frames apart', () => {
    const { client, last, envelopes, malformed } = setup();
    client.connect();
    last().serverAccepts();
    last().serverSends({ channel: 'system', type: 'dropped', data: { count: 3 } });
    last().serverSends('{not json');
    last().serverSends({ type: 'bar', data: {} });
    expect(envelopes).toEqual([{ channel: 'system', type: 'dropped', data: { count: 3 } }]);
    expect(malformed).toHaveLength(2);
  });

  it('reconnects after the backoff delay and resubscribes the current channel set', () => {
    const { client, sockets, last } = setup();
    client.subscribe(['signals', 'bars:AAPL']);
    client.connect();
    last().serverAccepts();
    last().serverSends(heartbeat);
    last().serverDrops();
    expect(client.status).toEqual({ state: 'reconnecting', attempt: 1 });

    // The set changes while the link is down: the new socket must get the set as it is now.
    client.unsubscribe(['bars:AAPL']);
    client.subscribe(['bars:MSFT']);

    const delay = backoffDelay(1, policy, () => 0.5);
    vi.advanceTimersByTime(delay - 1);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    last().serverAccepts();
    expect(last().sent).toEqual([{ type: 'subscribe', channels: ['bars:MSFT', 'signals'] }]);
  });

  it('waits longer after each consecutive failure, up to the cap', () => {
    const { client, sockets, last, statuses } = setup(() => 1);
    client.connect();
    const waits: number[] = [];
    for (let failure = 1; failure <= 8; failure += 1) {
      last().serverDrops();
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
      }
      waits.push(waited);
    }
    for (let i = 1; i < waits.length; i += 1) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] ?? 0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(policy.capMs);
    expect(waits[waits.length - 1]).toBe(policy.capMs);
    expect(statuses.filter((s) => s.state === 'reconnecting').map((s) => s.attempt)).toContain(8);
  });

  it('starts the backoff over once a new link carries a frame', () => {
    const { client, sockets, last } = setup(() => 1);
    client.connect();
    for (let i = 0; i < 4; i += 1) {
      last().serverDrops();
      vi.advanceTimersByTime(policy.capMs);
    }
    last().serverAccepts();
    last().serverSends(heartbeat);
    last().serverDrops();
    expect(client.status.attempt).toBe(1);
    const count = sockets.length;
    vi.advanceTimersByTime(backoffDelay(1, policy, () => 1));
    expect(sockets.length).toBe(count + 1);
  });

  it('keeps backing off when a server accepts then drops without sending anything', () => {
    const { client, last } = setup();
    client.connect();
    for (let i = 0; i < 3; i += 1) {
      last().serverAccepts();
      last().serverDrops();
      vi.advanceTimersByTime(policy.capMs);
    }
    last().serverAccepts();
    last().serverDrops();
    expect(client.status).toEqual({ state: 'reconnecting', attempt: 4 });
  });

  it('replaces a link that stays silent for 40 s', () => {
    const { client, sockets, last } = setup();
    client.connect();
    last().serverAccepts();
    const first = last();
    vi.advanceTimersByTime(30_000);
    first.serverSends(heartbeat);
    vi.advanceTimersByTime(30_000);
    expect(sockets).toHaveLength(1); // a heartbeat 30 s in kept it alive
    vi.advanceTimersByTime(10_000);
    expect(first.closedWith?.code).toBe(4000);
    expect(client.status.state).toBe('reconnecting');
    vi.advanceTimersByTime(policy.capMs);
    expect(sockets).toHaveLength(2);
    first.onclose?.({}); // the old socket's late close event must not start another reconnect
    vi.advanceTimersByTime(policy.capMs);
    expect(sockets).toHaveLength(2);
  });

  it('shares a channel between subscribers and drops it with the last one', () => {
    const { client, last } = setup();
    client.connect();
    last().serverAccepts();
    client.subscribe(['bars:AAPL']);
    client.subscribe(['bars:AAPL']);
    client.unsubscribe(['bars:AAPL']);
    expect(client.channels).toEqual(['bars:AAPL']);
    client.unsubscribe(['bars:AAPL']);
    client.unsubscribe(['never-subscribed']);
    expect(client.channels).toEqual([]);
    expect(last().sent).toEqual([
      { type: 'subscribe', channels: ['bars:AAPL'] },
      { type: 'unsubscribe', channels: ['bars:AAPL'] },
    ]);
  });

  it('stops reconnecting once closed by the app', () => {
    const { client, sockets, last } = setup();
    client.connect();
    last().serverAccepts();
    last().serverDrops();
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(client.status).toEqual({ state: 'closed', attempt: 0 });
  });

  it('retries when the socket cannot even be created', () => {
    let calls = 0;
    const client = new WsClient({
      url: 'ws://bad',
      createSocket: () => {
        calls += 1;
        throw new Error('SyntaxError: bad URL');
      },
      onEnvelope: () => undefined,
      backoff: policy,
      random: () => 0,
    });
    client.connect();
    expect(client.status).toEqual({ state: 'reconnecting', attempt: 1 });
    vi.advanceTimersByTime(backoffDelay(1, policy, () => 0));
    expect(calls).toBe(2);
    client.close();
  });
});

describe('parseEnvelope', () => {
  it('accepts a frame with channel, type and object data', () => {
    expect(parseEnvelope('{"channel":"signals","type":"x","data":{}}')).toEqual({ channel: 'signals', type: 'x', data: {} });
  });

  it('rejects frames missing a part or carrying non-object data', () => {
    expect(parseEnvelope('{"channel":"signals","type":"x","data":3}')).toBeNull();
    expect(parseEnvelope('{"type":"x","data":{}}')).toBeNull();
    expect(parseEnvelope('[]')).toBeNull();
    expect(parseEnvelope('')).toBeNull();
  });
});
