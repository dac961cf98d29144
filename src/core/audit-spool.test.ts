// The audit recorder while the store is away (issue 13 item 13: "audit records are spooled to the
// data directory while the database is away and written when it returns, not dropped"): spooled,
// bounded, written back in order when the store answers, and a dead process's spool adopted. Records
// one a line, as a recorder without the journal spools them (a journal batch spools as one line with
// its ids: audit-spool-batches.test.ts).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { until } from '../../test/support/until.ts';
import type { AuditEvent, Sighting } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { AuditRecorder } from './audit.ts';

/** A store whose audit and inventory refuse with PP_STORE_UNAVAILABLE while `down`. */
function flakyStore() {
  const s = {
    down: false,
    /** Calls accepted before going down by itself (a drain interrupted half way). */
    failAfter: Infinity,
    events: [] as AuditEvent[],
    sightings: [] as Sighting[],
    calls: 0,
  };
  const gate = () => {
    if (s.calls >= s.failAfter) s.down = true;
    if (s.down) throw new ProvError('PP_STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:5432');
    s.calls++;
  };
  const store = {
    phones: { recordSightings: async (l: Sighting[]) => (gate(), void s.sightings.push(...l)) },
    audit: {
      append: async (l: AuditEvent[]) => (gate(), void s.events.push(...l)),
      // The recorder's flush: one write, both or neither (the spool's drain writes the two apart).
      record: async (e: AuditEvent[], l: Sighting[]) => (gate(), void s.sightings.push(...l), void s.events.push(...e)),
    },
  } as unknown as Store;
  return { s, store };
}

function captureLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  return { lines, log: { warn: at('warn'), error: at('error'), info: at('info'), debug: at('debug') } as unknown as Logger };
}

const ev = (i: number): AuditEvent => ({ at: new Date(1_700_000_000_000 + i), address: '192.0.2.7', transport: 'http', op: 'write', path: `p${i}`, status: 'stored', bytes: i, durationMs: 1 });
const sg = (i: number): Sighting => ({ mac: '0004f2000001' as Sighting['mac'], at: new Date(1_700_000_000_000 + i), source: 'http', address: '192.0.2.7' });

const dirs: string[] = [];
function spoolDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'polyprov-spool-'));
  dirs.push(d);
  return join(d, 'audit-spool');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('issue 13 item 13: audit records outlive a store outage', () => {
  test('while the store is unavailable batches go to the spool; when it is back they are written in order, then the spool is empty', async () => {
    const { s, store } = flakyStore();
    const { lines, log } = captureLog();
    const dir = spoolDir();
    const rec = new AuditRecorder(store, log, { journal: false, spoolDir: dir, flushMs: 5, retryMs: 20 });
    s.down = true;
    for (let i = 0; i < 3; i++) {
      rec.sighting(sg(i));
      rec.event(ev(i));
      await rec.flush();
    }
    expect(rec.spooled).toBe(true);
    expect(s.events).toHaveLength(0);
    const files = readdirSync(dir).filter((n) => n.endsWith('.jsonl') && !n.startsWith('journal-'));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(dir, files[0]!), 'utf8').trim().split('\n')).toHaveLength(6);
    expect(lines.filter((l) => l.obj.code === 'PP_STORE_UNAVAILABLE')).toHaveLength(1); // one line per outage, not per batch

    s.down = false;
    rec.event(ev(3)); // the next live batch comes after the spooled ones
    await until(() => s.events.length === 4);
    expect(s.events.map((e) => e.path)).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(s.events[0]!.at).toBeInstanceOf(Date);
    expect(s.events[0]!.at.getTime()).toBe(ev(0).at.getTime());
    expect(s.sightings.map((x) => x.at.getTime())).toEqual([0, 1, 2].map((i) => sg(i).at.getTime()));
    // The store has the records before the spool file is removed: wait for the write loop to finish.
    await rec.flush();
    expect(rec.spooled).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl') && !n.startsWith('journal-'))).toEqual([]);
  });

  test('with no new traffic the spool is retried by itself once the store answers', async () => {
    const { s, store } = flakyStore();
    const rec = new AuditRecorder(store, captureLog().log, { journal: false, spoolDir: spoolDir(), flushMs: 5, retryMs: 20 });
    s.down = true;
    rec.event(ev(1));
    await rec.flush();
    s.down = false;
    await until(() => s.events.length === 1);
    // The store has the record a moment before the spool file goes: wait for the write loop to finish.
    await rec.flush();
    expect(rec.spooled).toBe(false);
  });

  test('while the store is away it is tried at most once per retry interval, however many batches come (a host that drops packets)', async () => {
    let calls = 0;
    const timeOut = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 150)); // waiting out a connect timeout
      throw new ProvError('PP_STORE_UNAVAILABLE', 'timeout exceeded when trying to connect');
    };
    const slowDown = {
      phones: { recordSightings: async () => undefined },
      audit: { append: timeOut, record: timeOut },
    } as unknown as Store;
    const rec = new AuditRecorder(slowDown, captureLog().log, { journal: false, spoolDir: spoolDir(), flushMs: 5, retryMs: 300 });
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      rec.event(ev(i));
      void rec.flush();
      await new Promise((r) => setTimeout(r, 20));
    }
    await rec.flush();
    const elapsed = Date.now() - started;
    expect(calls).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 2);
    expect(rec.spooled).toBe(true);
  });

  test('past its cap the spool keeps the older records, drops the newer ones and says how many (PP_STORE_SPOOL_FULL)', async () => {
    const { s, store } = flakyStore();
    const { lines, log } = captureLog();
    const oneLine = JSON.stringify({ e: ev(10) }).length + 1;
    const rec = new AuditRecorder(store, log, { journal: false, spoolDir: spoolDir(), flushMs: 5, retryMs: 20, spoolMaxBytes: oneLine * 5 + 3 });
    s.down = true;
    for (let i = 10; i < 18; i++) rec.event(ev(i));
    await rec.flush();
    const full = lines.filter((l) => l.obj.code === 'PP_STORE_SPOOL_FULL');
    expect(full).toHaveLength(1);
    s.down = false;
    await until(() => s.events.length === 5);
    expect(s.events.map((e) => e.path)).toEqual(['p10', 'p11', 'p12', 'p13', 'p14']);
    await until(() => lines.some((l) => l.obj.code === 'PP_STORE_SPOOL_FULL' && l.obj.dropped === 3));
    const gap = lines.find((l) => l.obj.dropped === 3)!;
    expect(gap.obj.from).toBe(ev(15).at.toISOString());
    expect(gap.obj.to).toBe(ev(17).at.toISOString());
  });

  test('a drain cut short by a second outage resumes after the last stored batch: nothing lost, nothing twice', async () => {
    const { s, store } = flakyStore();
    const rec = new AuditRecorder(store, captureLog().log, { journal: false, spoolDir: spoolDir(), flushMs: 5, retryMs: 20, maxBatch: 100_000 });
    s.down = true;
    for (let i = 0; i < 2500; i++) rec.event(ev(i));
    await rec.flush();
    s.down = false;
    s.failAfter = 1; // the first drained batch (1000 records) is stored, then the store goes again
    await until(() => s.down && s.events.length === 1000);
    await rec.flush();
    s.failAfter = Infinity;
    s.down = false;
    await until(() => s.events.length >= 2500);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.events).toHaveLength(2500);
    expect(new Set(s.events.map((e) => e.path)).size).toBe(2500);
  });

  test('a drained batch whose sightings were stored but not its events is retried without the sightings (none folded twice)', async () => {
    const { s, store } = flakyStore();
    const rec = new AuditRecorder(store, captureLog().log, { journal: false, spoolDir: spoolDir(), flushMs: 5, retryMs: 20 });
    s.down = true;
    rec.sighting(sg(1));
    rec.event(ev(1));
    await rec.flush();
    s.failAfter = 1; // the sightings are stored, then the store goes before the events
    s.down = false;
    await until(() => s.down && s.sightings.length === 1);
    s.failAfter = Infinity;
    s.down = false;
    await until(() => s.events.length === 1 && !rec.spooled);
    expect(s.sightings).toHaveLength(1);
  });

  test('a spool left by a process that died during an outage is adopted and written, from its recorded offset', async () => {
    const { s, store } = flakyStore();
    const dir = spoolDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    // A pid that is not running (pid_max is at most 4194304 on Linux).
    const dead = `${4_194_304 + 1}.abcdef012345.jsonl`;
    const body = [0, 1, 2].map((i) => JSON.stringify({ e: ev(i) })).join('\n') + '\n';
    writeFileSync(join(dir, dead), body);
    // The dead process had already stored its first record.
    writeFileSync(join(dir, `${dead}.offset`), String(JSON.stringify({ e: ev(0) }).length + 1));
    // And one a dead process had itself adopted from another.
    const deadAdopted = `${4_194_304 + 2}.abcdef012346.adopted-0.jsonl`;
    writeFileSync(join(dir, deadAdopted), `${JSON.stringify({ e: ev(3) })}\n`);
    const rec = new AuditRecorder(store, captureLog().log, { journal: false, spoolDir: dir, flushMs: 5, retryMs: 20 });
    expect(existsSync(join(dir, dead))).toBe(false); // claimed by renaming
    expect(existsSync(join(dir, deadAdopted))).toBe(false);
    await until(() => s.events.length === 3);
    expect(s.events.map((e) => e.path).sort()).toEqual(['p1', 'p2', 'p3']);
    await until(() => !rec.spooled);
    expect(readdirSync(dir)).toEqual([]);
  });
});
