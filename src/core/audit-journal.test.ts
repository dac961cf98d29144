// The audit write-ahead journal (issue 16, Behaviour under faults: "the killed node's unflushed
// audit batch, at most its last 100 ms, is the only loss allowed"; audit-journal.ts): a batch is in
// the journal before the store sees it; a process killed with its write in flight leaves a journal
// the next recorder on the directory replays, each batch once; torn lines, live owners and the
// file's bound.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { until } from '../../test/support/until.ts';
import { openMemoryStore } from '../../test/support/memory-store.ts';
import type { AuditEvent, Sighting } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { AuditJournal, readJournal } from './audit-journal.ts';
import { AuditRecorder } from './audit.ts';

const T0 = 1_700_000_000_000;
const MAC = '0004f2000001' as Sighting['mac'];
const ev = (i: number): AuditEvent => ({ at: new Date(T0 + i), mac: MAC, address: '192.0.2.7', transport: 'http', op: 'read', path: `p${i}`, status: '200', bytes: i, durationMs: 1 });
const sg = (i: number): Sighting => ({ mac: MAC, at: new Date(T0 + i), source: 'http', address: '192.0.2.7', file: { path: `p${i}`, op: 'read', status: '200' } });
const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;
/** A pid no process has (pid_max is at most 4194304 on Linux). */
const DEAD_PID = 4_194_304 + 7;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir() {
  const d = mkdtempSync(join(tmpdir(), 'polyprov-journal-'));
  dirs.push(d);
  return { spool: join(d, 'audit-spool'), tmp: join(d, 'tmp') };
}
const journals = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('journal-')) : []);

/** A store whose record() never resolves, as a write in flight at a kill (optionally applied first: committed, unacknowledged). */
function hangingStore(under?: Store) {
  const calls: Array<{ events: number; sightings: number; ids: readonly string[] | undefined }> = [];
  const store = {
    audit: {
      record: (e: AuditEvent[], s: Sighting[], ids?: readonly string[]) => {
        calls.push({ events: e.length, sightings: s.length, ids });
        if (under) void under.audit.record(e, s, ids);
        return new Promise<boolean>(() => {});
      },
    },
  } as unknown as Store;
  return { store, calls };
}

describe('issue 16, Behaviour under faults: the audit write-ahead journal', () => {
  test('each batch is in the journal, with its id, before the store is handed it; close removes the file', async () => {
    const { spool } = dataDir();
    const seen: Array<{ ids: readonly string[] | undefined; inJournal: string[] }> = [];
    const store = {
      audit: {
        record: async (_e: AuditEvent[], _s: Sighting[], ids?: readonly string[]) => {
          const [file] = journals(spool);
          seen.push({ ids, inJournal: readJournal(join(spool, file!)).map((b) => `${b.id}:${b.events.map((e) => e.path).join(',')}`) });
          return true;
        },
      },
    } as unknown as Store;
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5 });
    rec.event(ev(1));
    rec.sighting(sg(1));
    await rec.flush();
    rec.event(ev(2));
    await rec.flush();
    expect(seen).toHaveLength(2);
    const [a, b] = seen;
    expect(a!.ids).toHaveLength(1);
    expect(a!.inJournal).toEqual([`${a!.ids![0]}:p1`]);
    // The first batch is done by then: only the second is open in the journal.
    expect(b!.inJournal).toEqual([`${b!.ids![0]}:p2`]);
    expect(journals(spool)).toHaveLength(1);
    await rec.close();
    expect(journals(spool)).toEqual([]);
  });

  test('a process killed with its write in flight leaves a journal that the next recorder replays; its own batches too', async () => {
    const { spool, tmp } = dataDir();
    const { store: hung, calls } = hangingStore();
    // The "killed" process: its write never returns, and it is dropped without close().
    const dead = new AuditRecorder(hung, log, { spoolDir: spool, flushMs: 0, sealMs: 5 });
    for (let i = 0; i < 3; i++) dead.event(ev(i)), dead.sighting(sg(i));
    await until(() => calls.length === 1);
    // Queued behind the write in flight: sealed within sealMs, never written by the dead process.
    dead.event(ev(3));
    dead.sighting(sg(3));
    await until(() => readJournal(join(spool, journals(spool)[0]!)).length === 2);

    const store = await openMemoryStore(tmp);
    // Same pid, another token: the dead process's (as a container's pid 1 after a restart).
    const next = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => journals(spool).length === 0, 5000);
    expect((await store.audit.query({ limit: 100 })).map((e) => e.path).sort()).toEqual(['p0', 'p1', 'p2', 'p3']);
    expect(await store.phones.get(MAC)).toMatchObject({ fetchedCount: 4, lastSeen: new Date(T0 + 3) });
    // Dates come back as Dates.
    expect((await store.audit.query({ limit: 1 }))[0]!.at).toEqual(new Date(T0 + 3));
    await next.close();
  });

  test('a batch that had committed before the kill is replayed but counted once (the store skips its id), even replayed twice', async () => {
    const { spool, tmp } = dataDir();
    const store = await openMemoryStore(tmp);
    // Committed, but the process died before the store's answer (so before its done line).
    const { store: hung, calls } = hangingStore(store);
    const dead = new AuditRecorder(hung, log, { spoolDir: spool, flushMs: 0, sealMs: 5 });
    dead.event(ev(1));
    dead.sighting(sg(1));
    await until(() => calls.length === 1);
    expect(await store.audit.query({ limit: 100 })).toHaveLength(1);
    const [left] = journals(spool);
    const copy = readFileSync(join(spool, left!));

    const next = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => journals(spool).length === 0);
    // The same journal again (a replay interrupted by a kill before the file was removed).
    writeFileSync(join(spool, `journal-${DEAD_PID}-0123456789ab.jsonl`), copy);
    const third = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => journals(spool).length === 0);
    expect(await store.audit.query({ limit: 100 })).toHaveLength(1);
    expect(await store.phones.get(MAC)).toMatchObject({ fetchedCount: 1 });
    await Promise.all([next.close(), third.close()]);
  });

  test('a torn last line (killed mid-write) is skipped; done batches are not replayed', async () => {
    const { spool, tmp } = dataDir();
    mkdirSync(spool, { recursive: true });
    const line = (id: string, i: number) => JSON.stringify({ b: id, s: [sg(i)], e: [ev(i)] });
    const torn = line('x-4', 4);
    writeFileSync(join(spool, `journal-${DEAD_PID}-abcdef012345.jsonl`), [line('x-1', 1), line('x-2', 2), JSON.stringify({ d: ['x-1'] }), line('x-3', 3), torn.slice(0, torn.length >> 1)].join('\n'));
    const store = await openMemoryStore(tmp);
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => journals(spool).length === 0);
    expect((await store.audit.query({ limit: 100 })).map((e) => e.path).sort()).toEqual(['p2', 'p3']);
    await rec.close();
  });

  test('store unavailable during replay: the journal is kept and replayed once the store answers (the spool\'s retry path)', async () => {
    const { spool, tmp } = dataDir();
    mkdirSync(spool, { recursive: true });
    writeFileSync(join(spool, `journal-${DEAD_PID}-abcdef012345.jsonl`), `${JSON.stringify({ b: 'z-1', s: [sg(1)], e: [ev(1)] })}\n`);
    const mem = await openMemoryStore(tmp);
    let down = true;
    let tries = 0;
    const store = {
      ...mem,
      phones: mem.phones,
      audit: {
        ...mem.audit,
        record: async (e: AuditEvent[], s: Sighting[], ids?: readonly string[]) => {
          tries++;
          if (down) throw new ProvError('PP_STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:5432');
          return mem.audit.record(e, s, ids);
        },
      },
    } as unknown as Store;
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => tries >= 2);
    expect(journals(spool)).toHaveLength(1); // claimed (renamed), kept
    expect(await mem.audit.query({})).toHaveLength(0);
    down = false;
    await until(() => journals(spool).length === 0);
    expect((await mem.audit.query({})).map((e) => e.path)).toEqual(['p1']);
    await rec.close();
  });

  test('a journal whose process is alive is not adopted', async () => {
    const { spool, tmp } = dataDir();
    mkdirSync(spool, { recursive: true });
    // The test runner's parent process: alive for the whole test.
    const live = `journal-${process.ppid}-abcdef012345.jsonl`;
    writeFileSync(join(spool, live), `${JSON.stringify({ b: 'y-1', s: [], e: [ev(1)] })}\n`);
    const store = await openMemoryStore(tmp);
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    rec.event(ev(2));
    await rec.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(spool, live))).toBe(true);
    expect((await store.audit.query({ limit: 100 })).map((e) => e.path)).toEqual(['p2']);
    await rec.close();
  });

  test('a real process: SIGKILLed with its write in flight it leaves its journal, replayed once; exiting after a flush it leaves none', async () => {
    const { spool, tmp } = dataDir();
    // The child: a recorder over a store whose write never returns (hang) or returns at once (exit).
    const script = `
      const { AuditRecorder } = await import(${JSON.stringify(join(import.meta.dirname, 'audit.ts'))});
      const hang = process.env.JOURNAL_MODE === 'hang';
      const store = { audit: { record: () => (hang ? new Promise(() => {}) : Promise.resolve(true)) } };
      const log = { warn() {}, error() {}, info() {}, debug() {} };
      const rec = new AuditRecorder(store, log, { spoolDir: process.env.JOURNAL_DIR, flushMs: 0, sealMs: 5 });
      for (let i = 0; i < 3; i++) rec.event({ at: new Date(${T0} + i), address: '192.0.2.7', transport: 'http', op: 'read', path: 'p' + i, status: '200', bytes: 1, durationMs: 1 });
      if (!hang) {
        await rec.flush();
        process.exit(0);
      }
      setTimeout(() => process.stdout.write('sealed'), 50);
      setInterval(() => {}, 1000);
    `;
    const run = (mode: 'hang' | 'exit') =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JOURNAL_MODE: mode, JOURNAL_DIR: spool } });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d));
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('sealed')) child.kill('SIGKILL');
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if ((mode === 'hang' && signal === 'SIGKILL') || (mode === 'exit' && code === 0)) resolve();
          else reject(new Error(`child ${mode} ended ${code ?? signal}: ${err}`));
        });
      });
    await run('exit');
    expect(journals(spool)).toEqual([]);
    await run('hang');
    expect(journals(spool)).toHaveLength(1);
    const store = await openMemoryStore(tmp);
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, retryMs: 10 });
    await until(() => journals(spool).length === 0);
    expect((await store.audit.query({ limit: 100 })).map((e) => e.path).sort()).toEqual(['p0', 'p1', 'p2']);
    await rec.close();
  }, 60_000);

  test('journal: false writes no journal', async () => {
    const { spool, tmp } = dataDir();
    const store = await openMemoryStore(tmp);
    const rec = new AuditRecorder(store, log, { spoolDir: spool, flushMs: 5, journal: false });
    rec.event(ev(1));
    await rec.flush();
    expect(journals(spool)).toEqual([]);
    expect(await store.audit.query({})).toHaveLength(1);
    await rec.close();
  });

  test('rotation: past its bound the file is truncated when no batch is open, and cut back to the open batches otherwise', () => {
    const { spool } = dataDir();
    const j = new AuditJournal(spool, undefined, 2000);
    const big = (i: number) => Array.from({ length: 8 }, (_, k) => ev(i * 10 + k));
    const a = j.seal(big(1), []);
    const b = j.seal(big(2), []);
    expect(statSync(j.file).size).toBeGreaterThan(2000);
    // a done, b still open (its write under way): the file keeps b, and only b.
    j.done([a.id]);
    expect(statSync(j.file).size).toBeLessThan(2000);
    expect(readJournal(j.file).map((x) => x.id)).toEqual([b.id]);
    const c = j.seal(big(3), []);
    j.done([b.id, c.id]);
    expect(statSync(j.file).size).toBe(0);
    // Bounded over many batches with a write always open.
    let open = j.seal(big(0), []);
    for (let i = 0; i < 200; i++) {
      const next = j.seal(big(i), []);
      j.done([open.id]);
      open = next;
      expect(statSync(j.file).size).toBeLessThan(2000 + 3000);
    }
    expect(readJournal(j.file).map((x) => x.id)).toEqual([open.id]);
    j.done([open.id]);
    j.close();
    expect(existsSync(j.file)).toBe(false);
  });
});
