// Store.audit.record's batch ids (issue 16, Behaviour under faults: "the inventory and audit count
// every request at most once"): the audit journal (src/core/audit-journal.ts) replays, after a
// kill, the batches it has no "done" line for — one of them may have committed just before the
// kill. The store records each applied id in the write's own transaction, and a call naming an id
// applied before is a no-op: no audit row and no inventory fold twice.
import { describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import type { AuditEvent, Sighting, Store } from '../../src/store/store.ts';

const MAC = '0004f2000031' as Mac;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const ev = (sec: number): AuditEvent => ({ at: new Date(T0 + sec * 1000), mac: MAC, address: '192.0.2.31', transport: 'http', op: 'read', path: 'sip.cfg', status: '200', bytes: 10, durationMs: 1 });
const sight = (sec: number, o: Partial<Sighting> = {}): Sighting => ({ mac: MAC, at: new Date(T0 + sec * 1000), source: 'http', address: '192.0.2.31', file: { path: 'sip.cfg', op: 'read', status: '200' }, ...o });

export function auditBatchTests(fresh: () => Promise<{ store: Store }>, name: string): void {
  describe(`${name}: audit batch ids (issue 16, Behaviour under faults: every request counted at most once)`, () => {
    test('a batch applied twice counts once: audit rows and the inventory fold', async () => {
      const { store } = await fresh();
      const events = [ev(1), ev(2)];
      const sightings = [sight(1, { bootStart: true, stage: 'application' }), sight(2)];
      expect(await store.audit.record(events, sightings, ['p1-1'])).toBe(true);
      // The replay of the same batch (one id per call, as the journal replays).
      expect(await store.audit.record(events, sightings, ['p1-1'])).toBe(false);
      expect(await store.audit.query({ limit: 100 })).toHaveLength(2);
      expect(await store.phones.get(MAC)).toMatchObject({ fetchedCount: 2, lastSeen: new Date(T0 + 2000) });
      expect(await store.phones.boots(MAC, 10)).toHaveLength(1);
    });

    test('a call naming any applied id is a no-op as a whole; new ids apply', async () => {
      const { store } = await fresh();
      expect(await store.audit.record([ev(1)], [sight(1)], ['p2-1', 'p2-2'])).toBe(true);
      // p2-2 was applied (in one write with p2-1): this call stores nothing, not even p2-3's rows.
      expect(await store.audit.record([ev(3)], [sight(3)], ['p2-2', 'p2-3'])).toBe(false);
      expect(await store.audit.record([ev(4)], [sight(4)], ['p2-3'])).toBe(true);
      expect((await store.audit.query({ limit: 100 })).map((e) => e.at.getTime() - T0)).toEqual([4000, 1000]);
      expect(await store.phones.get(MAC)).toMatchObject({ fetchedCount: 2, lastSeen: new Date(T0 + 4000) });
      // Without ids, as before: always applied.
      expect(await store.audit.record([ev(5)], [], undefined)).toBe(true);
      expect(await store.audit.record([ev(5)], [])).toBe(true);
      expect(await store.audit.query({ limit: 100 })).toHaveLength(4);
    });

    test('events only and sightings only, with ids: skipped the second time too', async () => {
      const { store } = await fresh();
      expect(await store.audit.record([ev(1)], [], ['p3-1'])).toBe(true);
      expect(await store.audit.record([ev(1)], [], ['p3-1'])).toBe(false);
      expect(await store.audit.record([], [sight(2)], ['p3-2'])).toBe(true);
      expect(await store.audit.record([], [sight(2)], ['p3-2'])).toBe(false);
      expect(await store.audit.query({ limit: 100 })).toHaveLength(1);
      expect(await store.phones.get(MAC)).toMatchObject({ fetchedCount: 1 });
    });
  });
}
