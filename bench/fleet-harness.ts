// The managed-fleet benchmarks' plumbing (issue 14 "Scale"): a state directory per run (SQLite, or
// a fresh PostgreSQL schema at $POLYPROV_BENCH_PG_URL, dropped afterwards), `polyprov` commands run
// and timed as an administrator runs them, `polyprov serve` children with an admin listener, and the
// managed file's counters read from the admin /metrics (the bench never opens the server's store).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../src/phone/storm-server.ts';
import { runStorm, type StormOptions, type StormReport } from '../src/phone/storm.ts';
import { runCli } from '../test/phone/serve-child.ts';
import { pgUnreachable } from '../test/support/peers.ts';
import { dropSchemas, schemaName, schemaUrl } from '../test/support/pg-schema.ts';

export const BIN = fileURLToPath(new URL('../bin/polyprov', import.meta.url));
export const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
export const PG_URL = process.env.POLYPROV_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** N for the fleet and the storms; POLYPROV_BENCH_PHONES shrinks it for a quick run. */
export const PHONES = Number(process.env.POLYPROV_BENCH_PHONES ?? 10_000);

export type StoreKind = 'sqlite' | 'postgres';

export interface BenchState {
  kind: StoreKind;
  dir: string;
  config: string;
  data: string;
  /** The secret key every process of this run is given (POLYPROV_SECRET_KEY): PostgreSQL has no embedded key file. */
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** Whether PostgreSQL answers at PG_URL (the bench skips its PostgreSQL half, saying so, when not). */
export function postgresAnswers(): Promise<string | undefined> {
  return pgUnreachable(PG_URL);
}

/** A fresh state: a temp directory with polyprov.json (rate limits lifted, errors-only log) and, on PostgreSQL, a schema of its own. */
export async function freshState(kind: StoreKind, root: string | undefined, extra: Record<string, unknown> = {}): Promise<BenchState> {
  const dir = await mkdtemp(join(tmpdir(), `polyprov-bench-fleet-${kind}-`));
  const data = join(dir, 'data');
  const config = join(dir, 'polyprov.json');
  let schema: string | undefined;
  let storeUrl = 'sqlite';
  if (kind === 'postgres') {
    schema = schemaName('bench_fleet', 4);
    storeUrl = schemaUrl(PG_URL, schema);
  }
  await writeFile(config, JSON.stringify({ storeUrl, rateLimitPerSec: 1e6, rateLimitBurst: 1e6, logLevel: 'error', ...(root ? { root } : {}), ...extra }, null, 2));
  const env = { ...process.env, POLYPROV_SECRET_KEY: randomBytes(32).toString('hex') };
  return {
    kind,
    dir,
    config,
    data,
    env,
    cleanup: async () => {
      if (schema) await dropSchemas(PG_URL, [schema]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the whole command, process start included (what the administrator waits). */
  ms: number;
}

/** Runs `polyprov ARGS --config … --data …` and times it. */
export async function polyprov(s: BenchState, args: string[], input?: string, timeoutMs = 300_000): Promise<CliRun> {
  const t0 = performance.now();
  const r = await runCli([...args, '--config', s.config, '--data', s.data], input, timeoutMs, s.env);
  return { ...r, ms: performance.now() - t0 };
}

export interface Served {
  pid: number;
  http: number;
  admin: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `polyprov serve` for this state, HTTP and the admin listener on loopback port 0, open policy. */
export async function serve(s: BenchState, root: string, timeoutMs = 60_000): Promise<Served> {
  const args = [BIN, 'serve', '--config', s.config, '--data', s.data, '--root', root, '--policy', 'open', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: s.env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const port = (l: string) => Number(new RegExp(`^\\s*${l}\\s+listening on [^\\s]*:(\\d+)`, 'm').exec(out)?.[1] ?? 0);
    if (port('http') && port('admin')) return { pid: child.pid!, http: port('http'), admin: port('admin'), child, output: () => out, stop: () => stopChild(child) };
    if (child.exitCode !== null || Date.now() > end) {
      await stopChild(child);
      throw new Error(`polyprov serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET over a fresh connection; the body as text. */
export async function get(port: number, path: string): Promise<{ status: number; body: string; etag: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.text(), etag: r.headers.get('etag') };
}

/** The managed file's counters (ManagedFiles.stats) as the admin /metrics shows them. */
export interface FleetCounters {
  renders: number;
  storeReads: number;
  generation: number;
}

export async function fleetCounters(admin: number): Promise<FleetCounters | undefined> {
  const text = (await get(admin, '/metrics')).body;
  const v = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([\\d.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const renders = v('polyprov_fleet_renders_total');
  const storeReads = v('polyprov_fleet_store_reads_total');
  const generation = v('polyprov_fleet_generation');
  return renders === undefined || storeReads === undefined ? undefined : { renders, storeReads, generation: generation ?? NaN };
}

export { median } from './measure.ts';

export const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The benchmarks' boot storm against a served state: N (PHONES) VVX410s over HTTP with keep-alive,
 * 200 at a time, the application stage (an 8 MB image) with log uploads, each boot given 20 s;
 * progress on stderr at most every `everyMs` (and at the end).
 */
export function stormAgainst(server: Served, o: { everyMs: number; indent?: string; log?: StormOptions['log'] }): Promise<StormReport> {
  let last = 0;
  return runStorm({
    server: `http://127.0.0.1:${server.http}/`,
    serverPid: server.pid,
    phones: PHONES,
    concurrency: 200,
    transport: 'http',
    imageSizeMb: 8,
    stages: 'application',
    uploadLogs: true,
    keepAlive: true,
    model: 'VVX410',
    timeoutMs: 20_000,
    ...(o.log ? { log: o.log } : {}),
    onProgress: (done, total, errors) => {
      if (done === total || Date.now() - last > o.everyMs) {
        last = Date.now();
        process.stderr.write(`${o.indent ?? ''}${done}/${total} phones booted, ${errors} failed\n`);
      }
    },
  });
}
