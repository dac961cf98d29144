// The audit write-ahead journal's CPU cost per request (issue 16, Behaviour under faults; its
// design asks for under ~1 µs a request). The recorder alone, fed what the boot service feeds it
// per HTTP request (one audit event and one inventory sighting), at a steady request rate, with
// the journal on and off in alternating rounds; the main thread's CPU time per request (Linux
// /proc/self/task/<pid>/schedstat, in ns: process.cpuUsage() would add the tsx loader's thread,
// GC helpers and the thread pool, and its noise hid a 1 µs difference). The
// store is a stand-in whose write takes 2 ms and costs nothing (so the difference is the
// journal's, not the noise of a SQLite write on a shared machine), or the embedded SQLite store
// with `sqlite`. Then the journal's own work without a recorder: seal (one JSON.stringify and one
// writeSync per sealed batch) and done, per request, by batch size.
// `npx tsx bench/audit-journal.ts [rate req/s] [seconds a round] [rounds] [sqlite]`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditJournal } from '../src/core/audit-journal.ts';
import { AuditRecorder } from '../src/core/audit.ts';
import type { AuditEvent, Mac, Sighting } from '../src/domain.ts';
import type { Logger } from '../src/log.ts';
import type { Store } from '../src/store/store.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';

const RATE = Number(process.argv[2] ?? 4000);
const SECONDS = Number(process.argv[3] ?? 4);
const ROUNDS = Number(process.argv[4] ?? 4);
const SQLITE = process.argv[5] === 'sqlite';
/** A write that takes 2 ms of waiting and no CPU. */
const standIn = { audit: { record: () => new Promise<boolean>((r) => setTimeout(() => r(true), 2)) } } as unknown as Store;
/** The main thread's time on a CPU so far, in µs. */
function mainCpuUs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}
const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;

/** One request's records, shaped as record.ts makes them for a warm HTTP fetch. */
function request(i: number): { e: AuditEvent; s: Sighting } {
  const mac = `0004f2${(i % 3000).toString(16).padStart(6, '0')}` as Mac;
  const at = new Date();
  const path = `${mac}-line.cfg`;
  return {
    e: { at, mac, address: `10.1.${(i >> 8) & 255}.${i & 255}`, transport: 'http', op: 'read', path, status: '200', bytes: 5120, durationMs: 0.42 },
    s: {
      mac, at, source: 'http', address: `10.1.${(i >> 8) & 255}.${i & 255}`, model: 'VVX410', appVersion: '5.9.5.0614', stage: 'application',
      userAgent: 'FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614', file: { path, op: 'read', status: '200' }, master: '000000000000.cfg',
    },
  };
}

async function round(journal: boolean): Promise<{ us: number; requests: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-bench-journal-'));
  const sqlite = SQLITE ? new SqliteStore({ file: join(dir, 'polyprov.db'), tmpDir: join(dir, 'tmp') }) : undefined;
  await sqlite?.init();
  const store = sqlite ?? standIn;
  const rec = new AuditRecorder(store, log, { spoolDir: join(dir, 'audit-spool'), journal });
  // Records arrive every millisecond in small groups, as requests do; the timers run as in a server.
  const perMs = RATE / 1000;
  let n = 0;
  const c0 = mainCpuUs();
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.floor((Date.now() - t0) * perMs);
      for (; n < due; n++) {
        const r = request(n);
        rec.event(r.e);
        rec.sighting(r.s);
      }
      if (Date.now() - t0 >= SECONDS * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await rec.close();
  const c = mainCpuUs() - c0;
  await sqlite?.close();
  rmSync(dir, { recursive: true, force: true });
  return { us: c / n, requests: n };
}

function journalOnly(batch: number, batches: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-bench-journal-'));
  const j = new AuditJournal(join(dir, 'audit-spool'));
  const rs = Array.from({ length: batch }, (_, i) => request(i));
  const events = rs.map((r) => r.e);
  const sightings = rs.map((r) => r.s);
  const c0 = mainCpuUs();
  for (let i = 0; i < batches; i++) j.done([j.seal(events, sightings).id]);
  const c = mainCpuUs() - c0;
  j.close();
  rmSync(dir, { recursive: true, force: true });
  return c / (batch * batches);
}

async function main(): Promise<void> {
  process.stdout.write(`recorder over ${SQLITE ? 'SQLite' : 'a 2 ms stand-in store'}, ${RATE} req/s (1 event + 1 sighting each), ${SECONDS} s a round, ${ROUNDS} rounds each, alternating\n`);
  const on: number[] = [];
  const off: number[] = [];
  await round(true); // warm-up (JIT, SQLite page cache)
  for (let i = 0; i < ROUNDS; i++) {
    for (const journal of i % 2 ? [false, true] : [true, false]) {
      const r = await round(journal);
      (journal ? on : off).push(r.us);
      process.stdout.write(`  journal ${journal ? 'on ' : 'off'}: ${r.us.toFixed(2)} µs CPU per request (${r.requests} requests)\n`);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const min = (a: number[]) => Math.min(...a);
  process.stdout.write(`median: on ${med(on).toFixed(2)} µs, off ${med(off).toFixed(2)} µs per request: the journal costs ${(med(on) - med(off)).toFixed(2)} µs per request (least: ${min(on).toFixed(2)} - ${min(off).toFixed(2)} = ${(min(on) - min(off)).toFixed(2)})\n`);
  // The recorder seals at most JOURNAL_SEAL_MAX_RECORDS records (64 requests) a batch.
  for (const batch of [16, 64, 100, 400]) {
    journalOnly(batch, 50);
    process.stdout.write(`journal alone (seal + done, no store), batches of ${batch} requests: ${journalOnly(batch, Math.ceil(40_000 / batch)).toFixed(2)} µs CPU per request\n`);
  }
}

await main();
