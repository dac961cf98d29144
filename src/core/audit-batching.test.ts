// The audit's write loop (issue 16, Behaviour under faults: a killed node may lose at most its
// last batch): while the store is busy with one batch, every record that arrives waits and goes
// in the next batch as one write, instead of a chain of small writes that falls behind.
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { AuditEvent, Mac, Sighting } from '../domain.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { AuditRecorder } from './audit.ts';

const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;
const ev = (i: number): AuditEvent => ({ at: new Date(i), address: '127.0.0.1', transport: 'http', op: 'read', path: `f${i}.cfg`, status: 'ok', bytes: 1, durationMs: 1 });

function slowStore(delayMs: number): { store: Store; batches: number[] } {
  const batches: number[] = [];
  const store = {
    audit: {
      // A flush is one write: record(events, sightings).
      record: async (events: AuditEvent[]) => {
        batches.push(events.length);
        await new Promise((r) => setTimeout(r, delayMs));
      },
    },
  } as unknown as Store;
  return { store, batches };
}

describe('audit write loop (issue 16: a slow store makes batches bigger, not a backlog)', () => {
  test('records arriving during a slow write go in ONE next write; flush resolves when all are stored', async () => {
    const { store, batches } = slowStore(100);
    const a = new AuditRecorder(store, log, { flushMs: 5 });
    a.event(ev(0));
    const first = a.flush();
    // 50 flushes' worth of records while the first batch is being written.
    for (let i = 1; i <= 50; i++) {
      a.event(ev(i));
      void a.flush();
    }
    await first;
    await a.flush();
    expect(batches).toEqual([1, 50]);
  });

  test('a flush after the loop ended starts a new write (nothing is left queued)', async () => {
    const { store, batches } = slowStore(5);
    const a = new AuditRecorder(store, log, { flushMs: 5 });
    a.event(ev(0));
    await a.flush();
    a.event(ev(1));
    await a.flush();
    expect(batches).toEqual([1, 1]);
    await a.flush();
    expect(batches).toEqual([1, 1]);
  });
});

// Issue 16, Behaviour under faults: "the killed node's unflushed audit batch, at most its last 100
// ms, is the only loss allowed". A record waits for company at most lossMs less twice the recent
// write time, and a held phone's wake-up (seconds off) never delays it.
describe('audit loss window (issue 16: a killed node loses at most its last 100 ms)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const MAC = '0004f2000001' as Mac;
  const sg = (at: number): Sighting => ({ mac: MAC, at: new Date(at), source: 'http', address: '192.0.2.7', file: { path: 'a.cfg', op: 'read', status: '200' } });
  /** A store whose write takes `ms` of the (fake) clock; each call's events and sightings counted. */
  function timedStore(ms: number): { store: Store; writes: Array<[number, number]> } {
    const writes: Array<[number, number]> = [];
    const store = {
      audit: {
        record: async (events: AuditEvent[], sightings: Sighting[]) => {
          if (ms) await new Promise((r) => setTimeout(r, ms));
          writes.push([events.length, sightings.length]);
        },
      },
    } as unknown as Store;
    return { store, writes };
  }

  test('issue 16 Behaviour under faults: by default no sighting is held — a known phone\'s sighting goes with the next batch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { store, writes } = timedStore(0);
    const a = new AuditRecorder(store, log);
    a.sighting(sg(Date.now()));
    await vi.advanceTimersByTimeAsync(100);
    a.sighting(sg(Date.now())); // known now: with a hold it would wait seconds, and die with a killed node
    a.event(ev(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(writes).toEqual([[0, 1], [1, 1]]);
  });

  test('a record is not held back by a held phone\'s wake-up seconds off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { store, writes } = timedStore(0);
    const a = new AuditRecorder(store, log, { hold: { quietMs: 60_000, maxHoldMs: 60_000 } });
    a.sighting(sg(Date.now())); // a phone not yet written: goes with the next write
    await vi.advanceTimersByTimeAsync(100);
    expect(writes).toEqual([[0, 1]]);
    a.sighting(sg(Date.now())); // now known: held, the loop to wake in 60 s
    a.event(ev(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(writes).toEqual([[0, 1], [1, 0]]);
    await a.flush(); // the held sighting goes on an explicit flush
    expect(writes).toEqual([[0, 1], [1, 0], [0, 1]]);
  });

  test('the wait is lossMs less twice the recent write time, none once writes take half of it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const fast = timedStore(0);
    const a = new AuditRecorder(fast.store, log, { lossMs: 100 });
    a.event(ev(0));
    await vi.advanceTimersByTimeAsync(79); // 100 - 2 × 10 ms (the first estimate)
    expect(fast.writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fast.writes).toEqual([[1, 0]]);

    const slow = timedStore(30);
    const b = new AuditRecorder(slow.store, log, { lossMs: 100 });
    b.event(ev(0));
    await vi.advanceTimersByTimeAsync(80 + 30); // waited 80, wrote for 30
    expect(slow.writes).toEqual([[1, 0]]);
    b.event(ev(1));
    await vi.advanceTimersByTimeAsync(39); // 100 - 2 × 30 = 40 ms of waiting now
    expect(slow.writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1 + 30);
    expect(slow.writes).toEqual([[1, 0], [1, 0]]);

    const slower = timedStore(60);
    const c = new AuditRecorder(slower.store, log, { lossMs: 100 });
    c.event(ev(0));
    await vi.advanceTimersByTimeAsync(80 + 60);
    c.event(ev(1));
    await vi.advanceTimersByTimeAsync(0); // writes take over half the window: no wait at all
    await vi.advanceTimersByTimeAsync(60);
    expect(slower.writes).toEqual([[1, 0], [1, 0]]);
  });
});
