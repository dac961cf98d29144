import { describe, expect, test } from 'vitest';
import type { FromWorker } from './messages.ts';
import { TlsSessionRelay } from './tls-session-relay.ts';

describe('issue 16 One machine: a worker asks the primary for TLS sessions, and never hangs', () => {
  test('put and ask go to the primary; its answer (by correlation id) resolves the ask', async () => {
    const sent: FromWorker[] = [];
    const relay = new TlsSessionRelay((m) => sent.push(m), () => true, 1000);
    relay.put('https:aa', Buffer.from('secret'));
    const a = relay.get('https:aa');
    const b = relay.get('https:bb');
    expect(sent[0]).toEqual({ t: 'tls+', key: 'https:aa', data: Buffer.from('secret').toString('base64') });
    const [askA, askB] = sent.slice(1) as Extract<FromWorker, { t: 'tls?' }>[];
    expect(askA!.id).not.toBe(askB!.id);
    relay.answer(askB!.id, undefined);
    relay.answer(askA!.id, Buffer.from('secret').toString('base64'));
    expect(await a).toEqual(Buffer.from('secret'));
    expect(await b).toBeUndefined();
  });

  test('no answer within the timeout is a miss; a late answer is dropped; no primary is a miss at once', async () => {
    const sent: FromWorker[] = [];
    const relay = new TlsSessionRelay((m) => sent.push(m), () => true, 30);
    const t0 = Date.now();
    expect(await relay.get('https:aa')).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    relay.answer((sent[0] as { id: number }).id, 'AAAA');
    const gone = new TlsSessionRelay(() => {
      throw new Error('sent while disconnected');
    }, () => false);
    gone.put('https:aa', Buffer.from('x'));
    expect(await gone.get('https:aa')).toBeUndefined();
  });
});
