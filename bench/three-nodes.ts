// Three nodes on one PostgreSQL (issue 16, Speed: "30,000 phones across three nodes: CPU per boot
// per node"). Three `polyprov serve --workers 1` children on 127.0.0.1, 127.0.0.2 and 127.0.0.3,
// each with its own data directory, all on one fresh schema of the machine's PostgreSQL
// ($POLYPROV_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test; dropped afterwards),
// the same secret key and the same generated tree (storm-tree.ts). N virtual phones (default
// 30,000; POLYPROV_BENCH_PHONES shrinks it), phone i booting against node i mod 3 — the HTTP boot
// storm's application stage (master, CONFIG_FILES, overrides, contacts, image header, log uploads),
// each phone from its own loopback address on one kept-alive connection, as storm.ts runs them.
// Two storms of the same phones: cold (nodes just started, every phone first seen) and warm (the
// same phones again, as a power restore of a running site finds them).
// Reported per node: CPU per boot (utime+stime of the node's pid over the storm / boots it served),
// peak RSS, boots/s; PostgreSQL's writes during the storm (pg_stat_database xact_commit and
// tup_inserted/updated/deleted for the database, which other users of it also move, and the
// schema's own tuple writes from pg_stat_user_tables, which only these nodes move), the CPU of every
// postgres process (an upper bound); the load generator's CPU and the load average. And the write
// batches (issue 16, Speed: "at most one write batch" per boot; pg-write-counts.ts): requests per
// boot as the load generator made them, audit rows per boot and what they are, the transactions
// that carried them (in all and per node), phones-table inserts/updates per boot, whether the
// inventory rows went in the audit's transactions, and how long after the storm audit rows kept
// arriving. POLYPROV_BENCH_PHONES=3000 for a small run. Report: bench/results/three-nodes-<N>-<date>.md/json.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
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
import { percentiles, requestKind } from '../src/phone/storm-report.ts';
import { procStats, stopChild } from '../src/phone/storm-server.ts';
import { generateStormTree, phoneSourceAddress, stormMac } from '../src/phone/storm-tree.ts';
import { auditMark, auditSettled, stormWrites } from './pg-write-counts.ts';

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
  phonesInserted: number;
  phonesUpdated: number;
  /** Row writes (inserted + updated + deleted) per table of the schema. */
  tables: Record<string, number>;
}

async function pgCounters(c: pg.Client, schema: string): Promise<PgCounters> {
  await c.query('SELECT pg_stat_clear_snapshot()');
  const d = (await c.query('SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database()')).rows[0];
  const t = (await c.query('SELECT coalesce(sum(n_tup_ins),0) AS i, coalesce(sum(n_tup_upd),0) AS u, coalesce(sum(n_tup_del),0) AS d FROM pg_stat_user_tables WHERE schemaname = $1', [schema])).rows[0];
  const rows = (await c.query('SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS w, n_tup_ins AS i, n_tup_upd AS u FROM pg_stat_user_tables WHERE schemaname = $1', [schema])).rows as Array<{ relname: string; w: string; i: string; u: string }>;
  const phones = rows.find((r) => r.relname === 'phones');
  return {
    phonesInserted: Number(phones?.i ?? 0),
    phonesUpdated: Number(phones?.u ?? 0),
    tables: Object.fromEntries(rows.map((r) => [r.relname, Number(r.w)])),
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
  /** Requests the phones made (every attempt), in all and by kind (storm-report.ts requestKind). */
  requests: number;
  requestKinds: Record<string, number>;
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
  const runs: NodeRun[] = nodes.map(() => ({ boots: 0, failed: 0, firstStart: Infinity, lastEnd: 0, bootMs: [], errors: {}, requests: 0, requestKinds: {} }));
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
          profile: { mac: stormMac(i), model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: imageId.version ?? '4.0.0.0000' },
          state: new MemoryState(cache),
          kind: 'restart',
          settings: { tries: 1, retryWaitSec: 0, computeEffective: false, uploadLogs: true },
          env: { makeClient: factory },
        });
        for (const r of rec.requests) {
          run.requests++;
          const kind = `${requestKind(r)} ${r.stage}`;
          run.requestKinds[kind] = (run.requestKinds[kind] ?? 0) + 1;
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

/** CPU seconds of every `postgres` process on the machine (its backends serve other users too: an upper bound). */
function postgresCpuSeconds(): number {
  let sum = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

type Round = Awaited<ReturnType<typeof measuredStorm>>;

async function measuredStorm(kind: 'cold' | 'warm', nodes: Node[], admin: pg.Client, schema: string) {
  const procs = nodes.map((n) => procStats(n.pid));
  const pg0 = await pgCounters(admin, schema);
  const mark = await auditMark(admin, schema);
  const out0 = nodes.map((n) => n.output().length);
  const pgCpu0 = postgresCpuSeconds();
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
  const pgCpu = postgresCpuSeconds() - pgCpu0;
  const clientCpu = process.cpuUsage(client0);
  const load1 = loadavg()[0]!;
  process.stdout.write(`  storm over in ${r2(seconds)} s; waiting for the audit rows to stop arriving, and at least ${PG_STATS_SETTLE_MS / 1000} s for PostgreSQL's counters …\n`);
  const settleStart = Date.now();
  // Counted in the table itself (pg_stat counters aside), once the nodes' recorders have caught up.
  const settled = await auditSettled(admin, schema, mark);
  await new Promise((r) => setTimeout(r, Math.max(0, PG_STATS_SETTLE_MS - (Date.now() - settleStart))));
  const pg1 = await pgCounters(admin, schema);
  const writes = await stormWrites(admin, schema, mark, PHONES, nodes.length);
  const auditRowsPerBoot = r2(writes.auditRows / PHONES);
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const requestKinds: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.requestKinds)) requestKinds[k] = (requestKinds[k] ?? 0) + n;
  const nodeOutput = nodes.map((n, i) => n.output().slice(out0[i]).trim().slice(0, 2000));
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
  const { tables: tables0, ...n0 } = pg0;
  const { tables: tables1, ...n1 } = pg1;
  const d = Object.fromEntries(Object.keys(n0).map((k) => [k, n1[k as keyof typeof n1] - n0[k as keyof typeof n0]])) as unknown as Omit<PgCounters, 'tables'>;
  const byTable = Object.fromEntries(
    Object.entries(tables1)
      .map(([t, w]) => [t, r2((w - (tables0[t] ?? 0)) / PHONES)] as const)
      .filter(([, w]) => w > 0)
      .sort((a, b) => b[1] - a[1]),
  );
  const schemaWrites = d.schemaInserted + d.schemaUpdated + d.schemaDeleted;
  const totalCpu = perNode.reduce((a, n) => a + n.cpuSeconds, 0);
  const clientCpuSeconds = r2((clientCpu.user + clientCpu.system) / 1e6);
  return {
    kind,
    loadAvg1: { start: r2(load0), end: r2(load1), max: r2(Math.max(load0, load1, ...loads)) },
    totalSeconds: r2(seconds),
    bootsPerSecond: r2(PHONES / seconds),
    failedBoots: perNode.reduce((a, n) => a + n.failedBoots, 0),
    serverCpuSeconds: r2(totalCpu),
    serverCpuMsPerBoot: r2((totalCpu * 1000) / PHONES),
    clientCpuSeconds,
    clientCpuMsPerBoot: r2((clientCpuSeconds * 1000) / PHONES),
    perNode,
    auditRowsPerBoot,
    requestsPerBoot: r2(requests / PHONES),
    requestsPerBootByKind: Object.fromEntries(Object.entries(requestKinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, r2(n / PHONES)])),
    auditRowsPerBootByKind: writes.auditRowsPerBootByKind,
    /** Audit rows still arriving this long after the storm's last boot (a recorder behind). */
    auditLastGrewMsAfterStorm: settled.lastGrewMs,
    writeBatches: {
      recorderTransactions: writes.auditTransactions,
      perBoot: r2(writes.auditTransactions / PHONES),
      perNodePerBoot: writes.auditTransactionsPerNode.map((n, i) => r2(n / runs[i]!.boots)),
      perNodePerSecond: writes.auditTransactionsPerNode.map((n, i) => r2(n / ((runs[i]!.lastEnd - runs[i]!.firstStart) / 1000))),
      phonesRows: writes.phonesRows,
      phonesRowsOutsideAuditTransactions: writes.phonesRowsOutsideAuditTransactions,
    },
    phonesPerBoot: { inserted: r2(d.phonesInserted / PHONES), updated: r2(d.phonesUpdated / PHONES) },
    nodeOutput,
    postgres: {
      schema: { inserted: d.schemaInserted, updated: d.schemaUpdated, deleted: d.schemaDeleted, rowWrites: schemaWrites, rowWritesPerSecond: r2(schemaWrites / seconds), rowWritesPerBoot: r2(schemaWrites / PHONES), rowWritesPerBootByTable: byTable },
      database: { xactCommit: d.xactCommit, tupInserted: d.tupInserted, tupUpdated: d.tupUpdated, tupDeleted: d.tupDeleted, commitsPerSecond: r2(d.xactCommit / seconds), commitsPerBoot: r2(d.xactCommit / PHONES) },
      cpuSeconds: r2(pgCpu),
      cpuMsPerBoot: r2((pgCpu * 1000) / PHONES),
    },
  };
}

function roundMarkdown(r: Round): string[] {
  const p = r.postgres;
  return [
    `## ${r.kind} storm`,
    '',
    `${r.totalSeconds} s, ${r.bootsPerSecond} boots/s in all, ${r.failedBoots} failed boots · load average (1 min) ${r.loadAvg1.start} at the start, ${r.loadAvg1.end} at the end, ${r.loadAvg1.max} at most · the three nodes' CPU ${r.serverCpuSeconds} s (${r.serverCpuMsPerBoot} ms per boot) · load generator CPU ${r.clientCpuSeconds} s (${r.clientCpuMsPerBoot} ms per boot) · every \`postgres\` process's CPU ${p.cpuSeconds} s (${p.cpuMsPerBoot} ms per boot; other users of the server included, an upper bound).`,
    '',
    '| node | address | boots | failed | CPU | CPU per boot | peak RSS | boots/s | boot p50 | boot p99 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.perNode.map((n) => `| ${n.node} | ${n.address} | ${n.boots} | ${n.failedBoots} | ${n.cpuSeconds} s | ${n.cpuMsPerBoot} ms | ${n.peakRssMb} MB | ${n.bootsPerSecond} | ${r2(n.boot.p50)} ms | ${r2(n.boot.p99)} ms |`),
    '',
    `PostgreSQL (counters read ${PG_STATS_SETTLE_MS / 1000} s after the storm, once idle backends have reported): the schema's own row writes ${p.schema.rowWrites} (${p.schema.inserted} inserted, ${p.schema.updated} updated, ${p.schema.deleted} deleted) = **${p.schema.rowWritesPerSecond}/s, ${p.schema.rowWritesPerBoot} per boot** (per boot by table: ${Object.entries(p.schema.rowWritesPerBootByTable).map(([t, w]) => `${t} ${w}`).join(', ')}); the whole database (other users of it included, an upper bound): ${p.database.xactCommit} commits = ${p.database.commitsPerSecond}/s (${p.database.commitsPerBoot} per boot), ${p.database.tupInserted} tuples inserted, ${p.database.tupUpdated} updated, ${p.database.tupDeleted} deleted.`,
    '',
    `Write batches (issue 16: at most one per boot): the nodes' audit/inventory recorders wrote the storm's audit rows in **${r.writeBatches.recorderTransactions} transactions = ${r.writeBatches.perBoot} per boot** (per node ${r.writeBatches.perNodePerBoot.join(', ')} per boot, ${r.writeBatches.perNodePerSecond.join(', ')} per second); of the ${r.writeBatches.phonesRows} phones rows they touched, ${r.writeBatches.phonesRowsOutsideAuditTransactions} were last written in a transaction that wrote none of the storm's audit rows (the inventory in a transaction of its own, or a flush that carried only sightings held until their phone was quiet). Phones table per boot: ${r.phonesPerBoot.inserted} inserted, **${r.phonesPerBoot.updated} updated** (pg_stat). The log uploads are transactions of their own (the phone's PUT is answered once stored).`,
    '',
    `Requests per boot as the phones made them: ${r.requestsPerBoot} (${Object.entries(r.requestsPerBootByKind).map(([k, n]) => `${k} ${n}`).join(', ')}). Audit rows per boot, what they are: ${Object.entries(r.auditRowsPerBootByKind).map(([k, n]) => `\`${k}\` ${n}`).join(', ')}. Audit rows kept arriving ${r.auditLastGrewMsAfterStorm} ms after the storm.`,
    '',
    `Audit rows per boot counted in the table: ${r.auditRowsPerBoot}.${r.nodeOutput.some(Boolean) ? ' The nodes said: ' + r.nodeOutput.map((o, i) => (o ? `node ${i + 1}: \`${o.split('\n')[0]!.slice(0, 300)}\` (${o.split('\n').length} lines)` : '')).filter(Boolean).join('; ') : ' The nodes logged no error.'}`,
    '',
    ...(r.failedBoots ? ['Errors: ' + r.perNode.map((n) => `node ${n.node} ${JSON.stringify(n.errors)}`).join('; '), ''] : []),
  ];
}

async function main(): Promise<void> {
  const when = new Date().toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'polyprov-bench-three-nodes-'));
  const schema = `bench_nodes_${process.pid}_${randomBytes(3).toString('hex')}`;
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  const storeUrl = u.toString();
  const env: NodeJS.ProcessEnv = { ...process.env, POLYPROV_SECRET_KEY: randomBytes(32).toString('hex') };
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
    const rounds: Round[] = [];
    for (const kind of ['cold', 'warm'] as const) {
      process.stdout.write(`${kind} storm: ${PHONES} phones …\n`);
      rounds.push(await measuredStorm(kind, nodes, admin, schema));
    }
    const failed = rounds.reduce((a, r) => a + r.failedBoots, 0);
    const report = { when, phones: PHONES, nodes: NODES.length, concurrency: CONCURRENCY, host: { cpus: cpus().length, node: process.version }, rounds };
    await mkdir(RESULTS, { recursive: true });
    const stem = join(RESULTS, `three-nodes-${PHONES}-${when.slice(0, 19).replace(/[:T]/g, '-')}`);
    await writeFile(`${stem}.json`, JSON.stringify(report, null, 2) + '\n');
    const md = [
      `# Three nodes on one PostgreSQL: ${PHONES} phones, HTTP boot storm`,
      '',
      `${when} · ${cpus().length} CPUs (shared with the load generator, PostgreSQL and other work on the machine) · Node ${process.version} · three \`polyprov serve --workers 1\` children on 127.0.0.1/.2/.3, one PostgreSQL schema (127.0.0.1:5432, db \`${u.pathname.slice(1)}\`), the same generated tree, open policy · application stage (master, CONFIG_FILES, overrides, contacts, image header, log uploads), phone i on node i mod 3, one loopback address and kept-alive connection per phone, ${CONCURRENCY} phones at a time (${CONCURRENCY / NODES.length} per node). Two storms of the same phones: **cold** (nodes just started, every phone first seen) and **warm** (the same phones again: caches warm, inventory known — a power restore of a running site).`,
      '',
      ...rounds.flatMap((r) => roundMarkdown(r)),
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
