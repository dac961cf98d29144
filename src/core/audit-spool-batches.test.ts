// A journal batch that goes to the spool keeps its ids (issue 16, Behaviour under faults: "the
// inventory and audit count every request at most once"): a write reported failed that had in fact
// committed (the connection lost after COMMIT, PostgreSQL restarting) is skipped when the spool is
// drained, not stored a second time. Records spooled without ids (no journal) drain as before.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { AuditEvent, Sighting } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { AuditRecorder } from './audit.ts';

const silent = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;
const ev = (i: number): AuditEvent => ({ at: new Date(1_700_000_000_000 + i), address: '192.0.2.7', transport: 'http', op: 'read', path: `p${i}`, status: '200', bytes: i, durationMs: 1 });
const sg = (i: number): Sighting => ({ mac: '0004f2000001' as Sighting['mac'], at: new Date(1_700_000_000_000 + i), source: 'http', address: '192.0.2.7', file: { path: `p${i}`, op: 'read', status: '200' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store that applies batch ids once, and whose first write commits but reports the store away. */
function committingLiar() {
  const s = { applied: new Set<string>(), events: [] as AuditEvent[], sightings: [] as Sighting[], lies: 1, skipped: 0 };
  const keep = (e: AuditEvent[], l: Sighting[]) => (s.events.push(...e), s.sightings.push(...l));
  const store = {
    phones: { recordSightings: async (l: Sighting[]) => void s.sightings.push(...l) },
    audit: {
      append: async (e: AuditEvent[]) => void s.events.push(...e),
      record: async (e: AuditEvent[], l: Sighting[], ids?: string[]) => {
        if (ids?.some((id) => s.applied.has(id))) return (s.skipped++, false);
        for (const id of ids ?? []) s.applied.add(id);
        keep(e, l);
        if (s.lies > 0) {
          s.lies--;
          throw new ProvError('PP_STORE_UNAVAILABLE', 'Connection terminated unexpectedly (after COMMIT)');
        }
        return true;
      },
    },
  } as unknown as Store;
  return { s, store };
}

const dirs: string[] = [];

/** A spool directory and a store that is away (refuses every write) until `gate.down` is set false. */
function awayThenBack() {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-spool-ids-'));
  dirs.push(dir);
  const { s, store } = committingLiar();
  s.lies = 0;
  const gate = { down: true };
  const record = store.audit.record.bind(store.audit);
  (store.audit as { record: typeof record }).record = async (e, l, ids) => {
    if (gate.down) throw new ProvError('PP_STORE_UNAVAILABLE', 'connect ECONNREFUSED');
    return record(e, l, ids);
  };
  return { dir, s, store, gate };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('audit spool with journal batch ids (issue 16: every request counted at most once)', () => {
  test('a batch whose commit was reported failed is spooled with its ids and skipped by the store when drained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polyprov-spool-ids-'));
    dirs.push(dir);
    const { s, store } = committingLiar();
    const rec = new AuditRecorder(store, silent, { spoolDir: dir, journal: true, retryMs: 20, flushMs: 5 });
    for (let i = 0; i < 3; i++) {
      rec.event(ev(i));
      rec.sighting(sg(i));
    }
    await rec.flush(); // committed, reported away: spooled
    expect(s.events).toHaveLength(3);
    const spooled = readdirSync(dir).filter((n) => !n.startsWith('journal-') && n.endsWith('.jsonl'));
    expect(spooled).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, spooled[0]!), 'utf8').trim()).b, 'the spool line carries the batch ids').toHaveLength(1);
    await sleep(30);
    rec.event(ev(9)); // a new record starts the next flush, which drains the spool first
    await rec.flush();
    expect(s.skipped, 'the spooled batch was applied already: skipped').toBe(1);
    expect(s.events.map((e) => e.path)).toEqual(['p0', 'p1', 'p2', 'p9']);
    expect(s.sightings).toHaveLength(3);
    expect(rec.spooled).toBe(false);
    await rec.close();
  });

  test('without the journal the records spool one a line and drain as before', async () => {
    const { dir, s, store, gate } = awayThenBack();
    const rec = new AuditRecorder(store, silent, { spoolDir: dir, journal: false, retryMs: 20, flushMs: 5 });
    rec.event(ev(1));
    rec.sighting(sg(1));
    await rec.flush();
    const spooled = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
    expect(readFileSync(join(dir, spooled[0]!), 'utf8').trim().split('\n').map((l) => Object.keys(JSON.parse(l))[0])).toEqual(['s', 'e']);
    gate.down = false;
    await sleep(30);
    await rec.flush();
    expect(s.events.map((e) => e.path)).toEqual(['p1']);
    expect(s.sightings).toHaveLength(1);
    await rec.close();
  });

  test('past the cap a journal batch is dropped whole (counted, PP_STORE_SPOOL_FULL), never cut in two', async () => {
    const { dir, s, store, gate } = awayThenBack();
    const errors: string[] = [];
    const log = { ...silent, error: (o: { code?: string }) => void errors.push(o.code ?? '') } as unknown as Logger;
    // Room for one batch of two records (~320 bytes a line), not two.
    const rec = new AuditRecorder(store, log, { spoolDir: dir, journal: true, retryMs: 20, flushMs: 5, spoolMaxBytes: 500 });
    for (let b = 0; b < 2; b++) {
      rec.event(ev(b));
      rec.sighting(sg(b));
      await rec.flush();
    }
    expect(errors).toContain('PP_STORE_SPOOL_FULL');
    gate.down = false;
    await sleep(30);
    await rec.flush();
    expect(s.events.map((e) => e.path), 'the first batch whole, the second dropped whole').toEqual(['p0']);
    expect(s.sightings.map((x) => x.file?.path)).toEqual(['p0']);
    await rec.close();
  });
});
