// Three nodes on one PostgreSQL (issue 16, Speed: "30,000 phones across three nodes: CPU per boot
// per node"). Three `polyprov serve --workers 1` children on 127.0.0.1, 127.0.0.2 and 127.0.0.3,
// each with its own data directory, all on one fresh schema of the machine's PostgreSQL
// ($POLYPROV_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test; dropped afterwards),
// the same secret key and the same generated tree (storm-tree.ts). N virtual phones (default
// 30,000; POLYPROV_BENCH_PHONES shrinks it), phone i booting against node i mod 3 — the HTTP boot
// storm's application stage (master, CONFIG_FILES, overrides, contacts, image header, log uploads),
// each phone from its own loopback address on one kept-alive connection, as storm.ts runs them.
// Reported per node: CPU per boot (utime+stime of the node's pid over the storm / boots it served),
// peak RSS, boots/s; PostgreSQL's writes during the storm (pg_stat_database xact_commit and
// tup_inserted/updated/deleted for the database, which other users of it also move, and the
// schema's own tuple writes from pg_stat_user_tables, which only these nodes move); the load
// generator's CPU and the load average. Report: bench/results/three-nodes-<N>-<date>.md/json.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { bootPhone } from '../src/phone/boot.ts';
import { clientFactory } from '../src/phone/clients.ts';
import { IMAGE_HEADER_BYTES, identifyImage } from '../src/phone/image-header.ts';
import { parseServerAddress } from '../src/phone/server-address.ts';
import { emptyCache, MemoryState } from '../src/phone/state.ts';
import { percentiles } from '../src/phone/storm-report.ts';
import { procStats, stopChild } from '../src/phone/storm-server.ts';
import { generateStormTree, phoneSourceAddress, stormMac } from '../src/phone/storm-tree.ts';

const BIN = fileURLToPath(new URL('../bin/polyprov', import.meta.url));
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const PG_URL = process.env.POLYPROV_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PHONES = Number(process.env.POLYPROV_BENCH_PHONES ?? 30_000);
const NODES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const CONCURRENCY = 240; // 80 phones at a time per node
// An idle PostgreSQL backend reports its counters at most every 10 s (PGSTAT_IDLE_INTERVAL): wait that out.
const PG_STATS_SETTLE_MS = 11_500;
const r2 = (x: number) => Math.round(x * 100) / 100;

interface Node {
  address: string;
  port: number;
  pid: number;
  child: ChildProcess;
  output(): string;
}

async function startNode(i: number, dir: string, root: string, storeUrl: string, env: NodeJS.ProcessEnv): Promise<Node> {
  const data = join(dir, `data${i}`);
  const config = join(dir, `node${i}.json`);
  await writeFile(config, JSON.stringify({ storeUrl, root, rateLimitPerSec: 1e6, rateLimitBurst: 1e6, logLevel: 'error', workers: 1 }, null, 2));
  const address = NODES[i]!;
  const args = [BIN, 'serve', '--config', config, '--data', data, '--root', root, '--policy', 'open', '--workers', '1', '--http', `${address}:0`];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 90_000;
  for (;;) {
    const m = /^\s*http\s+listening on [^\s]*:(\d+)/m.exec(out);
    if (m) return { address, port: Number(m[1]), pid: child.pid!, child, output: () => out };
    if (child.exitCode !== null || Date.now() > end) {
      await stopChild(child);
      throw new Error(`node ${i} (polyprov serve on ${address}) did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface PgCounters {
  xactCommit: number;
  tupInserted: number;
  tupUpdated: number;
  tupDeleted: number;
  schemaInserted: number;
  schemaUpdated: number;
  schemaDeleted: number;
}

async function pgCounters(c: pg.Client, schema: string): Promise<PgCounters> {
  await c.query('SELECT pg_stat_clear_snapshot()');
  const d = (await c.query('SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()')).rows[0];
  const t = (await c.query('SELECT coalesce(sum(n_tup_ins),0) AS i, coalesce(sum(n_tup_upd),0) AS u, coalesce(sum(n_tup_del),0) AS d FROM pg_stat_user_tables WHERE schemaname = $1', [schema])).rows[0];
  return {
    xactCommit: Number(d.xact_commit),
    tupInserted: Number(d.tup_inserted),
    tupUpdated: Number(d.tup_updated),
    tupDeleted: Number(d.tup_deleted),
    schemaInserted: Number(t.i),
    schemaUpdated: Number(t.u),
    schemaDeleted: Number(t.d),
  };
}

interface NodeRun {
  boots: number;
  failed: number;
  firstStart: number;
  lastEnd: number;
  bootMs: number[];
  errors: Record<string, number>;
}

/** Phone i boots against node i mod 3; `CONCURRENCY / 3` phones at a time per node. */
async function storm(nodes: Node[], progress: (done: number, failed: number) => void): Promise<NodeRun[]> {
  const settings = { timeoutMs: 20_000, rejectUnauthorized: false, tftpTimeoutMs: 1000, tftpRetries: 5 };
  const addresses = nodes.map((n) => parseServerAddress(`http://${n.address}:${n.port}/`, { serverType: 'http' }));
  // Every phone already holds the image: read its identity once (the same bytes on every node).
  const probe = clientFactory(settings)(addresses[0]!, addresses[0]!.host);
  const head = await probe.headThenHangUp(addresses[0]!.directory + 'sip.ld', IMAGE_HEADER_BYTES);
  await probe.close();
  const imageId = head.status === 'ok' && head.body ? identifyImage(head.body) : undefined;
  if (!imageId) throw new Error(`could not read the image header (${head.wire})`);
  const runs: NodeRun[] = nodes.map(() => ({ boots: 0, failed: 0, firstStart: Infinity, lastEnd: 0, bootMs: [], errors: {} }));
  let done = 0;
  let failedAll = 0;
  const perNode = Math.max(1, Math.floor(CONCURRENCY / nodes.length));
  const worker = async (n: number, next: { i: number }) => {
    const run = runs[n]!;
    for (;;) {
      const i = next.i;
      if (i >= PHONES) return;
      next.i += nodes.length;
      const cache = emptyCache();
      cache.image = { file: 'sip.ld', id: imageId.id, version: imageId.version };
      cache.appVersion = imageId.version;
      const factory = clientFactory({ ...settings, rawHttp: true, localAddress: phoneSourceAddress(i) });
      const t = performance.now();
      run.firstStart = Math.min(run.firstStart, t);
      let failed = false;
      try {
        const rec = await bootPhone({
          server: addresses[n]!,
          profile: { mac: stormMac(i), model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: imageId.version },
          state: new MemoryState(cache),
          kind: 'restart',
          settings: { tries: 1, retryWaitSec: 0, computeEffective: false, uploadLogs: true },
          env: { makeClient: factory },
        });
        for (const r of rec.requests) {
          if (r.status === 'error' || r.status === 'denied') {
            const key = `${r.status}:${r.wire}`;
            run.errors[key] = (run.errors[key] ?? 0) + 1;
            failed = true;
          }
        }
        if (!rec.contacted || rec.configFrom !== 'server') failed = true;
      } catch (e) {
        const key = `exception:${(e as Error).message.slice(0, 60)}`;
        run.errors[key] = (run.errors[key] ?? 0) + 1;
        failed = true;
      }
      const t1 = performance.now();
      run.bootMs.push(t1 - t);
      run.lastEnd = Math.max(run.lastEnd, t1);
      run.boots++;
      if (failed) {
        run.failed++;
        failedAll++;
      }
      progress(++done, failedAll);
    }
  };
  await Promise.all(
    nodes.flatMap((_, n) => {
      const next = { i: n };
      return Array.from({ length: perNode }, () => worker(n, next));
    }),
  );
  return runs;
}

async function main(): Promise<void> {
  const when = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'polyprov-bench-three-nodes-'));
  const schema = `bench_nodes_${process.pid}_${randomBytes(3).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  const storeUrl = u.toString();
  const env = { ...process.env, POLYPROV_SECRET_KEY: randomBytes(32).toString('hex') };
  delete env.POLYPROV_WORKERS;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const nodes: Node[] = [];
  try {
    const root = join(dir, 'root');
    process.stdout.write(`generating a tree of ${PHONES} phones and an 8 MB image …\n`);
    await generateStormTree(root, PHONES, 8);
    // One after the other: the first migrates the schema (the others find it done).
    for (let i = 0; i < NODES.length; i++) {
      nodes.push(await startNode(i, dir, root, storeUrl, env));
      process.stdout.write(`node ${i + 1}: polyprov serve pid ${nodes[i]!.pid} on http://${nodes[i]!.address}:${nodes[i]!.port}/\n`);
    }
    await new Promise((r) => setTimeout(r, PG_STATS_SETTLE_MS));
    const procs = nodes.map((n) => procStats(n.pid));
    const pg0 = await pgCounters(admin, schema);
    const cpu0 = procs.map((p) => p.cpuSeconds() ?? NaN);
    const load0 = loadavg()[0]!;
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    let last = 0;
    const loads: number[] = [];
    const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5000);
    const runs = await storm(nodes, (done, failed) => {
      if (done === PHONES || Date.now() - last > 10_000) {
        last = Date.now();
        process.stdout.write(`  ${done}/${PHONES} phones booted, ${failed} failed\n`);
      }
    }).finally(() => clearInterval(loadTimer));
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = procs.map((p) => p.cpuSeconds() ?? NaN);
    const clientCpu = process.cpuUsage(client0);
    const load1 = loadavg()[0]!;
    process.stdout.write(`storm over in ${r2(seconds)} s; waiting ${PG_STATS_SETTLE_MS / 1000} s for PostgreSQL's counters …\n`);
    await new Promise((r) => setTimeout(r, PG_STATS_SETTLE_MS));
    const pg1 = await pgCounters(admin, schema);
    const perNode = nodes.map((n, i) => {
      const run = runs[i]!;
      const cpu = cpu1[i]! - cpu0[i]!;
      const span = (run.lastEnd - run.firstStart) / 1000;
      return {
        node: i + 1,
        address: n.address,
        pid: n.pid,
        boots: run.boots,
        failedBoots: run.failed,
        errors: run.errors,
        cpuSeconds: r2(cpu),
        cpuMsPerBoot: r2((cpu * 1000) / run.boots),
        peakRssMb: procs[i]!.peakRssMb() ?? NaN,
        seconds: r2(span),
        bootsPerSecond: r2(run.boots / span),
        boot: percentiles(run.bootMs),
      };
    });
    const dPg = Object.fromEntries(Object.keys(pg0).map((k) => [k, pg1[k as keyof PgCounters] - pg0[k as keyof PgCounters]])) as unknown as PgCounters;
    const schemaWrites = dPg.schemaInserted + dPg.schemaUpdated + dPg.schemaDeleted;
    const postgres = {
      database: {
        xactCommit: dPg.xactCommit,
        tupInserted: dPg.tupInserted,
        tupUpdated: dPg.tupUpdated,
        tupDeleted: dPg.tupDeleted,
        commitsPerSecond: r2(dPg.xactCommit / seconds),
        tupInsertedPerSecond: r2(dPg.tupInserted / seconds),
      },
      schema: { inserted: dPg.schemaInserted, updated: dPg.schemaUpdated, deleted: dPg.schemaDeleted, rowWritesPerSecond: r2(schemaWrites / seconds), rowWritesPerBoot: r2(schemaWrites / PHONES) },
      commitsPerBoot: r2(dPg.xactCommit / PHONES),
    };
    const totalCpu = perNode.reduce((a, n) => a + n.cpuSeconds, 0);
    const failed = perNode.reduce((a, n) => a + n.failedBoots, 0);
    const clientCpuSeconds = r2((clientCpu.user + clientCpu.system) / 1e6);
    const report = {
      when,
      phones: PHONES,
      nodes: NODES.length,
      concurrency: CONCURRENCY,
      host: { cpus: cpus().length, node: process.version, loadAvg1: { start: r2(load0), end: r2(load1), max: r2(Math.max(load0, load1, ...loads)) } },
      totalSeconds: r2(seconds),
      bootsPerSecond: r2(PHONES / seconds),
      failedBoots: failed,
      serverCpuSeconds: r2(totalCpu),
      serverCpuMsPerBoot: r2((totalCpu * 1000) / PHONES),
      clientCpuSeconds,
      clientCpuMsPerBoot: r2((clientCpuSeconds * 1000) / PHONES),
      perNode,
      postgres,
    };
    await mkdir(RESULTS, { recursive: true });
    const stem = join(RESULTS, `three-nodes-${PHONES}-${when.slice(0, 19).replace(/[:T]/g, '-')}`);
    await writeFile(`${stem}.json`, JSON.stringify(report, null, 2) + '\n');
    const md = [
      `# Three nodes on one PostgreSQL: ${PHONES} phones, HTTP boot storm`,
      '',
      `${when} · ${cpus().length} CPUs (shared with the load generator, PostgreSQL and other work) · Node ${process.version} · load average (1 min) ${report.host.loadAvg1.start} at the start, ${report.host.loadAvg1.end} at the end, ${report.host.loadAvg1.max} at most · three \`polyprov serve --workers 1\` children on 127.0.0.1/.2/.3, one PostgreSQL schema (15, 127.0.0.1:5432), the same generated tree, open policy · application stage (master, CONFIG_FILES, overrides, contacts, image header, log uploads), phone i on node i mod 3, one loopback address and kept-alive connection per phone, ${CONCURRENCY} phones at a time (${CONCURRENCY / NODES.length} per node).`,
      '',
      `Storm: ${report.totalSeconds} s, ${report.bootsPerSecond} boots/s in all, ${failed} failed boots. Server CPU ${report.serverCpuSeconds} s (${report.serverCpuMsPerBoot} ms per boot); load generator CPU ${clientCpuSeconds} s (${report.clientCpuMsPerBoot} ms per boot).`,
      '',
      '| node | address | boots | failed | CPU | CPU per boot | peak RSS | boots/s | boot p50 | boot p99 |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...perNode.map((n) => `| ${n.node} | ${n.address} | ${n.boots} | ${n.failedBoots} | ${n.cpuSeconds} s | ${n.cpuMsPerBoot} ms | ${n.peakRssMb} MB | ${n.bootsPerSecond} | ${r2(n.boot.p50)} ms | ${r2(n.boot.p99)} ms |`),
      '',
      `PostgreSQL during the storm (counters read ${PG_STATS_SETTLE_MS / 1000} s after it, so idle backends have reported): the schema's own row writes ${schemaWrites} (${dPg.schemaInserted} inserted, ${dPg.schemaUpdated} updated, ${dPg.schemaDeleted} deleted) = ${postgres.schema.rowWritesPerSecond}/s, ${postgres.schema.rowWritesPerBoot} per boot; the database \`${u.pathname.slice(1)}\` (shared with other users of it, so an upper bound): ${dPg.xactCommit} commits = ${postgres.database.commitsPerSecond}/s (${postgres.commitsPerBoot} per boot), ${dPg.tupInserted} tuples inserted = ${postgres.database.tupInsertedPerSecond}/s, ${dPg.tupUpdated} updated, ${dPg.tupDeleted} deleted.`,
      '',
      ...(failed ? ['Errors: ' + perNode.map((n) => `node ${n.node} ${JSON.stringify(n.errors)}`).join('; '), ''] : []),
    ].join('\n');
    await writeFile(`${stem}.md`, md);
    process.stdout.write(`${md}\nreport: ${stem}.md\n`);
    process.exitCode = failed === 0 ? 0 : 1;
  } finally {
    for (const n of nodes) await stopChild(n.child);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
