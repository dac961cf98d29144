// The audit's write loop (issue 16, Behaviour under faults: a killed node may lose at most its
// last batch): while the store is busy with one batch, every record that arrives waits and goes
// in the next batch as one write, instead of a chain of small writes that falls behind.
import { describe, expect, test } from 'vitest';
import type { AuditEvent } from '../domain.ts';
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
