// RFC 3261 §17.1.2.2 timers on a simulated clock: exact retransmission schedule, no waiting.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseMessage, type SipResponse } from './message.ts';
import { runNonInviteTransaction, type TransactionOutcome } from './transaction.ts';
import type { Flow } from './transport.ts';

function fakeFlow(reliable: boolean) {
  const sends: number[] = [];
  let handler: ((r: SipResponse) => void) | undefined;
  let closer: ((e?: Error) => void) | undefined;
  const flow: Flow = {
    reliable,
    transport: reliable ? 'tcp' : 'udp',
    local: { host: '127.0.0.1', port: 5060 },
    send: () => void sends.push(Date.now()),
    subscribe: (_b, h) => {
      handler = h;
      return () => (handler = undefined);
    },
    onClose: (cb) => (closer = cb),
    close: () => undefined,
  };
  const respond = (status: number, over: { callId?: string; cseq?: string } = {}) => {
    const p = parseMessage(`SIP/2.0 ${status} X\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKb\r\nCall-ID: ${over.callId ?? 'c'}\r\nCSeq: ${over.cseq ?? '1 NOTIFY'}\r\nContent-Length: 0\r\n\r\n`);
    if (p.ok && p.message.kind === 'response') handler?.(p.message);
  };
  return { flow, sends, respond, close: (e: Error) => closer?.(e), subscribed: () => handler !== undefined };
}
const REQ = { bytes: Buffer.from('x'), branch: 'z9hG4bKb', callId: 'c', cseq: 1, method: 'NOTIFY' };
const TIMERS = { t1Ms: 500, t2Ms: 4000 };

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RFC 3261 §17.1.2.2 non-INVITE client transaction', () => {
  test('UDP Trying: retransmit at T1, doubling to T2 (0, .5, 1.5, 3.5, 7.5, 11.5 … s), timer F at 64·T1 = 32 s', async () => {
    const f = fakeFlow(false);
    let out: TransactionOutcome | undefined;
    void runNonInviteTransaction(f.flow, REQ, TIMERS, undefined, () => Date.now()).then((o) => (out = o));
    await vi.advanceTimersByTimeAsync(32_000);
    expect(f.sends).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(out).toMatchObject({ kind: 'timeout', transmissions: 11 });
    expect(f.subscribed()).toBe(false);
  });

  test('UDP Proceeding: after a 1xx, retransmit every T2; the final response ends it with the rtt from the first send', async () => {
    const f = fakeFlow(false);
    let out: TransactionOutcome | undefined;
    void runNonInviteTransaction(f.flow, REQ, TIMERS, undefined, () => Date.now()).then((o) => (out = o));
    await vi.advanceTimersByTimeAsync(100);
    f.respond(100);
    await vi.advanceTimersByTimeAsync(9000);
    // The pending E (500) fires, then every T2.
    expect(f.sends).toEqual([0, 500, 4500, 8500]);
    f.respond(200);
    await vi.advanceTimersByTimeAsync(0);
    expect(out).toMatchObject({ kind: 'response', rttMs: 9100, transmissions: 4, provisional: 1 });
  });

  test('§17.1.3 a response with another Call-ID or CSeq is ignored and counted', async () => {
    const f = fakeFlow(false);
    const stats = { ignored: 0 };
    let out: TransactionOutcome | undefined;
    void runNonInviteTransaction(f.flow, REQ, TIMERS, stats, () => Date.now()).then((o) => (out = o));
    f.respond(200, { callId: 'other' });
    f.respond(200, { cseq: '2 NOTIFY' });
    f.respond(200, { cseq: '1 INVITE' });
    await vi.advanceTimersByTimeAsync(0);
    expect(out).toBeUndefined();
    expect(stats.ignored).toBe(3);
    f.respond(486);
    await vi.advanceTimersByTimeAsync(0);
    expect(out).toMatchObject({ kind: 'response' });
  });

  test('TCP/TLS: one transmission, no timer E, timer F still bounds the wait; a closed connection is an error', async () => {
    const f = fakeFlow(true);
    let out: TransactionOutcome | undefined;
    void runNonInviteTransaction(f.flow, REQ, TIMERS, undefined, () => Date.now()).then((o) => (out = o));
    await vi.advanceTimersByTimeAsync(32_000);
    expect(f.sends).toEqual([0]);
    expect(out).toMatchObject({ kind: 'timeout', transmissions: 1 });

    const g = fakeFlow(true);
    let out2: TransactionOutcome | undefined;
    void runNonInviteTransaction(g.flow, REQ, TIMERS, undefined, () => Date.now()).then((o) => (out2 = o));
    g.close(new Error('connection reset'));
    await vi.advanceTimersByTimeAsync(0);
    expect(out2).toMatchObject({ kind: 'error', error: 'connection reset' });
  });
});
