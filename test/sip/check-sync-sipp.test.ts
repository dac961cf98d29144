// check-sync against sipp playing the phone, on loopback.
import { afterEach, describe, expect, test } from 'vitest';
import { CheckSyncSender } from '../../src/sip/notify.ts';
import { parseSipUri } from '../../src/sip/targets.ts';
import { runPaced } from '../../src/sip/bulk.ts';
import { prng } from '../support/prng.ts';
import { notifyArrivals, startSipp, type Sipp } from './sipp.ts';
import { requirePeer } from '../support/peers.ts';

// T1 = 50 ms so timer F = 64·T1 = 3.2 s (RFC 3261 §17.1.2.2) keeps the timeout test short.
const TIMERS = { t1Ms: 50, t2Ms: 4000 };

const running: Sipp[] = [];
const senders: CheckSyncSender[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  await Promise.all(senders.splice(0).map((s) => s.close()));
});

async function sipp(scenario: string, o: Parameters<typeof startSipp>[1] = {}): Promise<Sipp> {
  const s = await startSipp(scenario, o);
  running.push(s);
  return s;
}
function sender(): CheckSyncSender {
  const s = new CheckSyncSender({ timers: TIMERS });
  senders.push(s);
  return s;
}
const target = (port: number, transport: 'udp' | 'tcp', user = '1001') => ({
  uri: parseSipUri(`sip:${user}@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`)!,
  host: '127.0.0.1',
  port,
  transport,
});

describe.skipIf(!requirePeer('sipp', 'sip-tester'))('white paper, Reconfiguring the Phone Remotely: check-sync NOTIFY against sipp', () => {
  test('200 OK over UDP; the phone saw Event: check-sync and Content-Length: 0', async () => {
    const s = await sipp('uas-200.xml');
    const r = await sender().send(target(s.port, 'udp'));
    expect(r.status).toBe(200);
    expect(r.transmissions).toBe(1);
    expect(r.rttMs).toBeGreaterThanOrEqual(0);
    expect(await s.exited).toBe(0);
    const log = (await import('node:fs')).readFileSync(s.messageFile, 'utf8');
    expect(log).toMatch(/^NOTIFY sip:1001@127\.0\.0\.1:\d+ SIP\/2\.0\r?$/m);
    expect(log).toMatch(/^Event: check-sync\r?$/m);
    expect(log).toMatch(/^Content-Length: 0\r?$/m);
    expect(log).toMatch(/^Via: SIP\/2\.0\/UDP [^;]+;branch=z9hG4bK[0-9a-f]+/m);
    expect(log).toMatch(/^From: <sip:polyprov@[^>]+>;tag=\w+\r?$/m);
    expect(log).toMatch(/^Max-Forwards: 70\r?$/m);
  });

  test('200 OK over TCP (sipp -t t1), no retransmission on a reliable transport (RFC 3261 §17.1.2.2)', async () => {
    const s = await sipp('uas-200.xml', { transport: 't1' });
    const r = await sender().send(target(s.port, 'tcp'));
    expect(r.status).toBe(200);
    expect(r.transmissions).toBe(1);
    expect(await s.exited).toBe(0);
    expect((await import('node:fs')).readFileSync(s.messageFile, 'utf8')).toMatch(/^Via: SIP\/2\.0\/TCP /m);
  });

  test('facts §4.1 requestValidation digest: 401 with realm PolycomSPIP answered with a Digest sipp verifies', async () => {
    const s = await sipp('uas-digest.xml', { keys: { user: '1001', pass: 'Line1-s3cret' } });
    const r = await sender().send({ ...target(s.port, 'udp'), credentials: { user: '1001', password: 'Line1-s3cret' } });
    expect(r.status).toBe(200);
    expect(r.challenges).toBe(1);
    expect(await s.exited).toBe(0);
    const log = (await import('node:fs')).readFileSync(s.messageFile, 'utf8');
    expect(log).toMatch(/^Authorization: Digest username="1001", realm="PolycomSPIP", nonce="4f3a9c1d7e2b8a65polyprov", uri="sip:1001@127\.0\.0\.1:\d+", response="[0-9a-f]{32}", algorithm=MD5, cnonce="[0-9a-f]+", qop=auth, nc=00000001\r?$/m);
  });

  test('facts §4.1 requestValidation digest: a wrong password is refused by the phone (403), not reported as success', async () => {
    const s = await sipp('uas-digest.xml', { keys: { user: '1001', pass: 'Line1-s3cret' } });
    const r = await sender().send({ ...target(s.port, 'udp'), credentials: { user: '1001', password: 'wrong' } });
    expect(r.status).toBe(403);
  });

  test('RFC 3261 §17.1.2.2 timer E: the phone ignores the first NOTIFY and answers the retransmission', async () => {
    const s = await sipp('uas-late.xml', { extra: ['-nr'] });
    const r = await sender().send(target(s.port, 'udp'));
    expect(r.status).toBe(200);
    expect(r.transmissions).toBe(2);
    // The answer cannot precede the retransmission, which leaves T1 after the first send.
    expect(r.rttMs!).toBeGreaterThanOrEqual(TIMERS.t1Ms - 1);
  });

  test('RFC 3261 §17.1.2.2 timer F: a phone that never answers is a timeout, not a hang', async () => {
    const s = await sipp('uas-silent.xml');
    const r = await sender().send(target(s.port, 'udp'));
    expect(r.status).toBe('timeout');
    // Retransmissions at 0, T1, 3·T1, 7·T1, 15·T1, 31·T1, 63·T1 (< 64·T1 = F): at most 7, fewer
    // only when a loaded machine fires timer E late.
    expect(r.transmissions).toBeGreaterThanOrEqual(2);
    expect(r.transmissions).toBeLessThanOrEqual(7);
  });

  test('bulk: 200 targets at --rate 100/s; no one-second window holds more than 101 sends, and sipp answers all 200', async () => {
    const n = 200;
    const s = await sipp('uas-200.xml', { calls: n, extra: ['-l', String(n)], timeoutS: 30 });
    const snd = new CheckSyncSender({ timers: { t1Ms: 500, t2Ms: 4000 } });
    senders.push(snd);
    const targets = Array.from({ length: n }, (_, i) => target(s.port, 'udp', `user${i}`));
    const starts: number[] = [];
    const results = await runPaced(targets, (t) => snd.send(t), { ratePerSec: 100, jitterMs: 5, maxInFlight: 50, random: prng(42), onStart: () => starts.push(performance.now()) });
    expect(results.filter((r) => r.status === 200)).toHaveLength(n);
    expect(await s.exited).toBe(0);
    const maxInOneSecond = (times: number[]) => {
      const t = [...times].sort((a, b) => a - b);
      let max = 0;
      for (let i = 0, j = 0; i < t.length; i++) {
        while (t[i]! - t[j]! >= 1000) j++;
        max = Math.max(max, i - j + 1);
      }
      return max;
    };
    // Our send times: the pacing rule guarantees at most rate + 1.
    expect(starts).toHaveLength(n);
    expect(maxInOneSecond(starts)).toBeLessThanOrEqual(101);
    // The phone's receive times (first copy per Call-ID): same bound plus a small burst, since
    // sipp stamps a datagram when it reads it and a descheduled sipp reads several at once.
    const arrivals = notifyArrivals(s.messageFile);
    expect(arrivals).toHaveLength(n);
    expect(maxInOneSecond(arrivals)).toBeLessThanOrEqual(101 + 5);
  }, 40_000);
});
