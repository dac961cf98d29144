// The managed boot storm (issue 14 "Scale"): N phones (default 10,000) booting over HTTP against a
// server where every phone is managed (the master lists managed/[PHONE_MAC_ADDRESS].cfg, the fleet
// imported from the generated CSV), against the same storm on a server with the classic static
// per-phone files holding the very same parameters (fleet-gen.ts) — both servers up for the whole
// run, three interleaved rounds (static first in odd rounds, managed first in even ones), medians.
// Goals: managed within 10% of static (storm time and server CPU per boot), managed server peak RSS
// ≤ 300 MB, and on a warm cache (rounds 2 and 3) no render and no store read for the managed file —
// counted by the server itself (ManagedFiles.stats) and read from its admin /metrics.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigFile } from '../src/config/config-file.ts';
import { procStats } from '../src/phone/storm-server.ts';
import { fleetCsv, generatedPhone, writeManagedTree, writeStaticTree } from './fleet-gen.ts';
import { fleetCounters, freshState, get, median, PHONES, polyprov, r2, RESULTS, serve, stormAgainst, type FleetCounters, type Served } from './fleet-harness.ts';

const ROUNDS = Number(process.env.POLYPROV_BENCH_ROUNDS ?? 3);
const GOAL = { ratio: 1.1, rssMb: 300 };
type Variant = 'static' | 'managed';

interface RoundResult {
  round: number;
  variant: Variant;
  totalSeconds: number;
  serverCpuSeconds: number;
  cpuMsPerBoot: number;
  bootP50: number;
  requestP50: number;
  requestP99: number;
  failedBoots: number;
  errors: Record<string, number>;
  /** Managed rounds: the server's counters moved by this storm. */
  renders?: number;
  storeReads?: number;
}

function delta(a: FleetCounters | undefined, b: FleetCounters | undefined): { renders?: number; storeReads?: number } {
  return a && b ? { renders: b.renders - a.renders, storeReads: b.storeReads - a.storeReads } : {};
}

async function main(): Promise<void> {
  const when = new Date().toISOString();
  const tmp = await mkdtemp(join(tmpdir(), 'polyprov-bench-managed-storm-'));
  const servers: Served[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const staticRoot = join(tmp, 'static');
    const managedRoot = join(tmp, 'managed');
    process.stdout.write(`generating ${PHONES} phones: a static tree and a managed one …\n`);
    await writeStaticTree(staticRoot, PHONES, 8);
    await writeManagedTree(managedRoot, 8);
    // One process per server (workers 1): one render cache to count, CPU and RSS of one pid, as the
    // README's other storms; `serve --workers N` (issue 16) spreads the same work over N processes.
    const stStatic = await freshState('sqlite', staticRoot, { workers: 1 });
    const stManaged = await freshState('sqlite', managedRoot, { workers: 1 });
    cleanups.push(stStatic.cleanup, stManaged.cleanup);
    const csv = join(stManaged.dir, 'fleet.csv');
    await writeFile(csv, fleetCsv(PHONES));
    const imp = await polyprov(stManaged, ['fleet', 'import', csv, '--json']);
    if (imp.code !== 0) throw new Error(`fleet import exited ${imp.code}: ${imp.stderr.slice(0, 2000)}`);
    process.stdout.write(`fleet import: ${imp.stdout.trim()} in ${r2(imp.ms / 1000)} s\n`);

    const byVariant: Record<Variant, Served> = { static: await serve(stStatic, staticRoot), managed: await serve(stManaged, managedRoot) };
    servers.push(byVariant.static, byVariant.managed);
    // The two servers answer the same phone with the same parameters.
    const probe = generatedPhone(3);
    const m = await get(byVariant.managed.http, `/managed/${probe.mac}.cfg`);
    const s = await get(byVariant.static.http, `/${probe.mac}-lines.cfg`);
    if (m.status !== 200 || s.status !== 200) throw new Error(`probe: managed ${m.status}, static ${s.status}`);
    const params = (f: string, body: string) => {
      const c = parseConfigFile(body, f);
      return c.kind === 'xml' ? Object.fromEntries(c.params.filter((p) => p.name.startsWith('reg.')).map((p) => [p.name, p.value])) : {};
    };
    const want = JSON.stringify(Object.entries(probe.settings).sort());
    for (const [f, body] of [['managed', m.body], ['static', s.body]] as const) {
      if (JSON.stringify(Object.entries(params(f, body)).sort()) !== want) throw new Error(`the ${f} file of ${probe.mac} does not hold its two lines:\n${body}`);
    }
    const countersAtStart = await fleetCounters(byVariant.managed.admin);
    if (!countersAtStart) process.stdout.write('note: the admin /metrics shows no polyprov_fleet_* counters; renders and store reads not counted\n');

    const rounds: RoundResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Variant[] = round % 2 === 1 ? ['static', 'managed'] : ['managed', 'static'];
      for (const variant of order) {
        const server = byVariant[variant];
        process.stdout.write(`round ${round}: ${variant} storm, ${PHONES} phones …\n`);
        const c0 = variant === 'managed' ? await fleetCounters(server.admin) : undefined;
        const rep = await stormAgainst(server, { everyMs: 10_000, indent: '  ' });
        const c1 = variant === 'managed' ? await fleetCounters(server.admin) : undefined;
        const cpu = rep.serverCpuSeconds ?? NaN;
        const row: RoundResult = {
          round,
          variant,
          totalSeconds: rep.totalSeconds,
          serverCpuSeconds: cpu,
          cpuMsPerBoot: r2((cpu * 1000) / PHONES),
          bootP50: rep.boots.p50,
          requestP50: rep.requests.p50,
          requestP99: rep.requests.p99,
          failedBoots: rep.failedBoots,
          errors: rep.errors,
          ...delta(c0, c1),
        };
        rounds.push(row);
        process.stdout.write(
          `  ${rep.totalSeconds} s, server CPU ${cpu} s (${row.cpuMsPerBoot} ms/boot), ${rep.failedBoots} failed` + (row.renders !== undefined ? `, renders ${row.renders}, store reads ${row.storeReads}` : '') + '\n',
        );
      }
    }
    const rss: Record<Variant, number | undefined> = { static: procStats(byVariant.static.pid).peakRssMb(), managed: procStats(byVariant.managed.pid).peakRssMb() };
    const med = (v: Variant, f: (r: RoundResult) => number) => r2(median(rounds.filter((r) => r.variant === v).map(f)));
    const summary = {
      static: { totalSeconds: med('static', (r) => r.totalSeconds), cpuMsPerBoot: med('static', (r) => r.cpuMsPerBoot), requestP50: med('static', (r) => r.requestP50), requestP99: med('static', (r) => r.requestP99), peakRssMb: rss.static },
      managed: { totalSeconds: med('managed', (r) => r.totalSeconds), cpuMsPerBoot: med('managed', (r) => r.cpuMsPerBoot), requestP50: med('managed', (r) => r.requestP50), requestP99: med('managed', (r) => r.requestP99), peakRssMb: rss.managed },
    };
    const timeRatio = r2(summary.managed.totalSeconds / summary.static.totalSeconds);
    const cpuRatio = r2(summary.managed.cpuMsPerBoot / summary.static.cpuMsPerBoot);
    const warm = rounds.filter((r) => r.variant === 'managed' && r.round > 1);
    const warmCounted = warm.every((r) => r.renders !== undefined);
    const failed = rounds.reduce((a, r) => a + r.failedBoots, 0);
    const pass = {
      time: timeRatio <= GOAL.ratio,
      cpu: cpuRatio <= GOAL.ratio,
      rss: rss.managed !== undefined && rss.managed <= GOAL.rssMb,
      warmCache: warmCounted && warm.every((r) => r.renders === 0 && r.storeReads === 0),
      noFailedBoots: failed === 0,
    };
    const report = { when, phones: PHONES, rounds: ROUNDS, host: { cpus: cpus().length, node: process.version, loadAvg1End: r2(loadavg()[0]!) }, goal: GOAL, summary, timeRatio, cpuRatio, pass };
    await mkdir(RESULTS, { recursive: true });
    const stem = join(RESULTS, `managed-storm-${PHONES}-${when.slice(0, 19).replace(/[:T]/g, '-')}`);
    await writeFile(`${stem}.json`, JSON.stringify({ ...report, rounds }, null, 2) + '\n');
    const yes = (b: boolean) => (b ? 'met' : 'MISSED');
    const md = [
      `# Managed boot storm: ${PHONES} phones over HTTP, every phone managed vs static per-phone files`,
      '',
      `${when} · ${cpus().length} CPUs · Node ${process.version} · load average (1 min) ${report.host.loadAvg1End} at the end · two \`polyprov serve\` children (SQLite store, open policy, one process each: \`workers: 1\`), up for the whole run · application stage (a restart: master, CONFIG_FILES, overrides, contacts, image header, log uploads), one loopback address and kept-alive connection per phone, concurrency 200 · ${ROUNDS} interleaved rounds, medians. Static per-phone file \`<MAC>-lines.cfg\` and \`managed/<MAC>.cfg\` hold the same two lines.`,
      '',
      '| | storm time | server CPU per boot | request p50 | request p99 | server peak RSS |',
      '|---|---|---|---|---|---|',
      `| static per-phone files | ${summary.static.totalSeconds} s | ${summary.static.cpuMsPerBoot} ms | ${summary.static.requestP50} ms | ${summary.static.requestP99} ms | ${summary.static.peakRssMb ?? 'n/a'} MB |`,
      `| every phone managed | ${summary.managed.totalSeconds} s | ${summary.managed.cpuMsPerBoot} ms | ${summary.managed.requestP50} ms | ${summary.managed.requestP99} ms | ${summary.managed.peakRssMb ?? 'n/a'} MB |`,
      `| managed / static (goal ≤ ${GOAL.ratio}) | ${timeRatio} (${yes(pass.time)}) | ${cpuRatio} (${yes(pass.cpu)}) | | | goal ≤ ${GOAL.rssMb} MB: ${yes(pass.rss)} |`,
      '',
      '| round | variant | storm time | server CPU | CPU per boot | failed boots | renders | store reads |',
      '|---|---|---|---|---|---|---|---|',
      ...rounds.map((r) => `| ${r.round} | ${r.variant} | ${r.totalSeconds} s | ${r.serverCpuSeconds} s | ${r.cpuMsPerBoot} ms | ${r.failedBoots} | ${r.renders ?? (r.variant === 'managed' ? 'n/a' : '')} | ${r.storeReads ?? (r.variant === 'managed' ? 'n/a' : '')} |`),
      '',
      `Warm cache (managed rounds 2–${ROUNDS}): ${warmCounted ? `${warm.map((r) => r.renders).join(', ')} renders, ${warm.map((r) => r.storeReads).join(', ')} store reads` : 'not counted (no polyprov_fleet_* counters on /metrics)'} — goal 0 and 0: ${yes(pass.warmCache)}. Failed boots over all rounds: ${failed}.`,
      '',
    ].join('\n');
    await writeFile(`${stem}.md`, md);
    process.stdout.write(`${md}\nreport: ${stem}.md\n`);
    process.exitCode = Object.values(pass).every(Boolean) ? 0 : 1;
  } finally {
    for (const s of servers) await s.stop();
    for (const c of cleanups) await c().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
