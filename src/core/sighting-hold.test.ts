// Issue 16, Speed: a warm phone's boot — a burst of requests over several 200 ms flushes — is one
// write of its inventory row, not one per flush; what must not wait does not (sighting-hold.ts).
import { describe, expect, test } from 'vitest';
import type { AuditEvent, Mac, Sighting } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { AuditRecorder } from './audit.ts';
import { SightingHold } from './sighting-hold.ts';

const MAC = '0004f2000001' as Mac;
const sg = (at: number, o: Partial<Sighting> = {}): Sighting => ({ mac: MAC, at: new Date(at), source: 'http', address: '192.0.2.7', ...o });

describe('SightingHold', () => {
  test('a phone not yet written goes at once; then its sightings wait until it is quiet', () => {
    const h = new SightingHold({ quietMs: 1000, maxHoldMs: 4000 });
    expect(h.take(sg(0), 0)).toHaveLength(1); // first: its row is created at once
    expect(h.take(sg(100), 100)).toEqual([]);
    expect(h.take(sg(600), 600)).toEqual([]);
    expect(h.size).toBe(2);
    expect(h.due(1500)).toEqual([]); // 900 ms quiet
    expect(h.nextDue()).toBe(1600);
    expect(h.due(1600).map((s) => s.at.getTime())).toEqual([100, 600]);
    expect(h.size).toBe(0);
  });

  test('a phone that keeps asking is written after maxHoldMs all the same', () => {
    const h = new SightingHold({ quietMs: 1000, maxHoldMs: 4000 });
    h.take(sg(0), 0);
    let released = 0;
    for (let t = 500; t <= 6000; t += 500) {
      h.take(sg(t), t);
      released += h.due(t).length;
      if (t === 4000) expect(released).toBe(0);
    }
    expect(released).toBe(9); // 500…4500 went at 4500; 5000…6000 held since
    expect(h.due(0, true)).toHaveLength(3);
  });

  test('boot starts, errors, lock flags, SIP details and a new master are not held, and take the held ones along', () => {
    const h = new SightingHold();
    h.take(sg(0, { master: 'a/000000000000.cfg' }), 0);
    expect(h.take(sg(1, { master: 'a/000000000000.cfg' }), 1)).toEqual([]); // the same master: may wait
    expect(h.take(sg(2, { master: 'b/000000000000.cfg' }), 2)).toHaveLength(2);
    for (const o of [{ bootStart: true }, { error: 'PP_UPLOAD_TOO_LARGE x' }, { error: null }, { overrideLocked: false }, { sipUser: '1001' }, { sipPort: 5060 }]) {
      expect(h.take(sg(10), 10)).toEqual([]);
      expect(h.take(sg(11, o), 11), JSON.stringify(o)).toHaveLength(2);
    }
    expect(h.size).toBe(0);
  });

  test('bounded: past maxHeld the phone held longest is written; past maxKnown the least recently written is forgotten', () => {
    const h = new SightingHold({ maxHeld: 3, maxKnown: 2 });
    const m = (i: number) => `0004f20000${i}0` as Mac;
    for (let i = 1; i <= 3; i++) h.take(sg(0, { mac: m(i) }), 0); // known: 2 and 3 (1 forgotten)
    expect(h.take(sg(1, { mac: m(1) }), 1)).toHaveLength(1); // forgotten, so written at once again; known: 3 and 1
    expect(h.take(sg(1, { mac: m(3) }), 1)).toEqual([]);
    expect(h.take(sg(2, { mac: m(1) }), 2)).toEqual([]);
    expect(h.take(sg(2, { mac: m(3) }), 2)).toEqual([]);
    expect(h.take(sg(3, { mac: m(1) }), 3).map((s) => s.mac)).toEqual([m(3), m(3)]);
    expect(h.size).toBe(2);
  });
});

describe('AuditRecorder with the hold (issue 16: one inventory write per warm boot)', () => {
  const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;
  const ev = (at: number): AuditEvent => ({ at: new Date(at), mac: MAC, address: '192.0.2.7', transport: 'http', op: 'read', path: 'f.cfg', status: '200', bytes: 1, durationMs: 1 });

  test('a warm boot of 14 requests over several flushes: audit rows every flush, the sightings in ONE write once the phone is quiet', async () => {
    const writes: Array<{ events: number; sightings: number }> = [];
    const store = { audit: { record: async (e: AuditEvent[], s: Sighting[]) => void writes.push({ events: e.length, sightings: s.length }) } } as unknown as Store;
    const rec = new AuditRecorder(store, log, { flushMs: 10, hold: { quietMs: 500, maxHoldMs: 5000 } });
    rec.sighting(sg(0)); // cold: written at once
    await rec.flush();
    writes.length = 0;
    for (let i = 0; i < 14; i++) {
      rec.event(ev(i));
      rec.sighting(sg(1000 + i));
      await new Promise((r) => setTimeout(r, 25)); // a flush between most requests
    }
    const deadline = Date.now() + 5000;
    while (writes.reduce((a, w) => a + w.sightings, 0) < 14 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(writes.length).toBeGreaterThan(2); // several flushes carried the audit rows
    expect(writes.reduce((a, w) => a + w.events, 0)).toBe(14);
    expect(writes.filter((w) => w.sightings > 0)).toHaveLength(1);
    expect(writes.find((w) => w.sightings > 0)!.sightings).toBe(14);
    await rec.close();
  });

  test('flush (and close) writes what is held at once', async () => {
    const sightings: Sighting[] = [];
    const store = { audit: { record: async (_e: AuditEvent[], s: Sighting[]) => void sightings.push(...s) } } as unknown as Store;
    const rec = new AuditRecorder(store, log, { flushMs: 10, hold: { quietMs: 60_000, maxHoldMs: 60_000 } });
    rec.sighting(sg(0));
    await rec.flush();
    rec.sighting(sg(1));
    rec.sighting(sg(2));
    await new Promise((r) => setTimeout(r, 50));
    expect(sightings).toHaveLength(1);
    await rec.flush();
    expect(sightings.map((s) => s.at.getTime())).toEqual([0, 1, 2]);
  });
});
