// Managed fleet benchmark (issue 14 "Scale"), on SQLite and on PostgreSQL in the same run:
// - `polyprov fleet import` of N phones × two lines (goal < 10 s), then the same file again, which
//   changes nothing (goal < 3 s) — wall time of the command, process start included;
// - a settings change at global scope for all N phones: the time from the change's start until the
//   next request to a running `polyprov serve` (another process, polling the store's generation) is
//   served the new value (goal < 1 s). Measured twice over: the change made in-process through the
//   admin service (what `settings set` does after its start-up), and the whole `polyprov settings set`
//   command. Three changes each, medians.
// PostgreSQL: a fresh schema at $POLYPROV_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
// dropped afterwards; skipped, saying so, when nothing answers there.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openAdmin } from '../src/core/open-core.ts';
import type { FleetCommand } from '../src/fleet/types.ts';
import { loadServerOptions } from '../src/options.ts';
import { fleetCsv, generatedPhone, writeManagedTree } from './fleet-gen.ts';
import { freshState, get, median, PHONES, polyprov, postgresAnswers, r2, RESULTS, serve, type BenchState, type StoreKind } from './fleet-harness.ts';

const GOAL = { importMs: 10_000, reimportMs: 3_000, visibleMs: 1_000 };
const CHANGES = 3;

interface StoreResult {
  store: StoreKind;
  phones: number;
  importMs: number;
  importCounts: unknown;
  reimportMs: number;
  reimportCounts: unknown;
  /** `polyprov --version`: the process start every command pays. */
  cliStartMs: number;
  globalChange: {
    inProcess: { recordedMs: number[]; visibleMs: number[] };
    cli: { commandMs: number[]; visibleMs: number[] };
  };
  pass: { import: boolean; reimport: boolean; visible: boolean };
}

function counts(out: string): unknown {
  try {
    return JSON.parse(out);
  } catch {
    return out.trim();
  }
}

/** Polls the server for a phone's managed file until it holds `needle`; the time that took after `t0`. */
async function visibleAfter(port: number, mac: string, needle: string, t0: number): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    const r = await get(port, `/managed/${mac}.cfg`);
    if (r.status === 200 && r.body.includes(needle)) return performance.now() - t0;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`the server never served ${needle} to ${mac}`);
}

async function benchStore(kind: StoreKind, csv: string, root: string): Promise<StoreResult> {
  const st: BenchState = await freshState(kind, root);
  try {
    const file = join(st.dir, 'fleet.csv');
    await writeFile(file, csv);
    const start = await polyprov(st, ['--version']);
    process.stdout.write(`[${kind}] fleet import of ${PHONES} phones …\n`);
    const first = await polyprov(st, ['fleet', 'import', file, '--json']);
    if (first.code !== 0) throw new Error(`fleet import exited ${first.code}: ${first.stderr.slice(0, 2000)}`);
    process.stdout.write(`[${kind}] import ${r2(first.ms / 1000)} s: ${first.stdout.trim()}\n`);
    const again = await polyprov(st, ['fleet', 'import', file, '--json']);
    if (again.code !== 0) throw new Error(`fleet re-import exited ${again.code}: ${again.stderr.slice(0, 2000)}`);
    process.stdout.write(`[${kind}] re-import ${r2(again.ms / 1000)} s: ${again.stdout.trim()}\n`);

    const server = await serve(st, root);
    const inProcess = { recordedMs: [] as number[], visibleMs: [] as number[] };
    const cli = { commandMs: [] as number[], visibleMs: [] as number[] };
    try {
      // Every phone's file rendered once (a warm server), as in production before a change.
      const probe = (k: number) => generatedPhone((k * 7919) % PHONES).mac;
      for (let k = 0; k < 2 * CHANGES; k++) {
        const r = await get(server.http, `/managed/${probe(k)}.cfg`);
        if (r.status !== 200 || !r.body.includes('reg.1.auth.userId')) throw new Error(`managed/${probe(k)}.cfg: ${r.status} ${r.body.slice(0, 200)}`);
      }
      const saved = process.env.POLYPROV_SECRET_KEY;
      process.env.POLYPROV_SECRET_KEY = st.env.POLYPROV_SECRET_KEY;
      const session = await openAdmin(loadServerOptions({ config: st.config, data: st.data }), { who: 'bench' });
      try {
        for (let k = 0; k < CHANGES; k++) {
          const value = `ntp-${k}-${process.pid}.example.com`;
          const cmd: FleetCommand = { op: 'settings.set', scope: { kind: 'global', tenant: '', name: '' }, values: { 'tcpIpApp.sntp.address': value } };
          const t0 = performance.now();
          await session.admin.fleet.apply([cmd]);
          inProcess.recordedMs.push(performance.now() - t0);
          inProcess.visibleMs.push(await visibleAfter(server.http, probe(k), value, t0));
        }
      } finally {
        await session.close();
        if (saved === undefined) delete process.env.POLYPROV_SECRET_KEY;
        else process.env.POLYPROV_SECRET_KEY = saved;
      }
      for (let k = 0; k < CHANGES; k++) {
        const value = `cli-ntp-${k}-${process.pid}.example.com`;
        const t0 = performance.now();
        const r = await polyprov(st, ['settings', 'set', 'global', `tcpIpApp.sntp.address=${value}`]);
        if (r.code !== 0) throw new Error(`settings set exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
        cli.commandMs.push(r.ms);
        cli.visibleMs.push(await visibleAfter(server.http, probe(CHANGES + k), value, t0));
      }
    } finally {
      await server.stop();
    }
    const visible = median(inProcess.visibleMs);
    process.stdout.write(`[${kind}] global change: recorded ${r2(median(inProcess.recordedMs))} ms, visible ${r2(visible)} ms (median of ${CHANGES}); via the CLI ${r2(median(cli.visibleMs))} ms\n`);
    return {
      store: kind,
      phones: PHONES,
      importMs: r2(first.ms),
      importCounts: counts(first.stdout),
      reimportMs: r2(again.ms),
      reimportCounts: counts(again.stdout),
      cliStartMs: r2(start.ms),
      globalChange: {
        inProcess: { recordedMs: inProcess.recordedMs.map(r2), visibleMs: inProcess.visibleMs.map(r2) },
        cli: { commandMs: cli.commandMs.map(r2), visibleMs: cli.visibleMs.map(r2) },
      },
      pass: { import: first.ms < GOAL.importMs, reimport: again.ms < GOAL.reimportMs, visible: visible < GOAL.visibleMs },
    };
  } finally {
    await st.cleanup();
  }
}

function markdown(when: string, results: StoreResult[], skipped: string[]): string {
  const yes = (b: boolean) => (b ? 'met' : 'MISSED');
  const s = (ms: number) => `${r2(ms / 1000)} s`;
  const lines = [
    `# Managed fleet: import and a global change, ${PHONES} phones × two lines`,
    '',
    `${when} · ${cpus().length} CPUs · Node ${process.version} · load average (1 min) ${r2(loadavg()[0]!)} at the end. Import times are the whole \`polyprov fleet import FILE --json\` command, process start included (\`polyprov --version\` alone shown beside). The global change sets \`tcpIpApp.sntp.address\` at global scope; "visible" runs from the change's start until a running \`polyprov serve\` (another process) serves the new value in a phone's \`managed/<MAC>.cfg\`; ${CHANGES} changes, medians.`,
    '',
    `| store | import (goal < ${s(GOAL.importMs)}) | re-import, nothing changes (goal < ${s(GOAL.reimportMs)}) | process start | global change recorded | visible to the next request (goal < ${GOAL.visibleMs} ms) | \`settings set\` command / visible |`,
    '|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.store} | ${s(r.importMs)} (${yes(r.pass.import)}) | ${s(r.reimportMs)} (${yes(r.pass.reimport)}) | ${s(r.cliStartMs)} | ${r2(median(r.globalChange.inProcess.recordedMs))} ms | ${r2(median(r.globalChange.inProcess.visibleMs))} ms (${yes(r.pass.visible)}) | ${s(median(r.globalChange.cli.commandMs))} / ${s(median(r.globalChange.cli.visibleMs))} |`,
    ),
    '',
    ...results.map((r) => `- ${r.store}: import said \`${JSON.stringify(r.importCounts)}\`, re-import \`${JSON.stringify(r.reimportCounts)}\`; visible after ${r.globalChange.inProcess.visibleMs.join(', ')} ms.`),
    ...skipped.map((w) => `- skipped: ${w}`),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const when = new Date().toISOString();
  const csv = fleetCsv(PHONES);
  const tmp = await mkdtemp(join(tmpdir(), 'polyprov-bench-fleet-tree-'));
  const root = join(tmp, 'root');
  await writeManagedTree(root, 1);
  const results: StoreResult[] = [];
  const skipped: string[] = [];
  let failed = false;
  try {
    for (const kind of ['sqlite', 'postgres'] as const) {
      if (kind === 'postgres') {
        const why = await postgresAnswers();
        if (why) {
          skipped.push(`PostgreSQL: nothing answers at the bench URL (${why}); apt-get install postgresql`);
          process.stdout.write(`skipped PostgreSQL: ${why}\n`);
          continue;
        }
      }
      try {
        results.push(await benchStore(kind, csv, root));
      } catch (e) {
        failed = true;
        skipped.push(`${kind}: FAILED — ${(e as Error).message.split('\n')[0]}`);
        process.stdout.write(`[${kind}] FAILED: ${(e as Error).stack}\n`);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await mkdir(RESULTS, { recursive: true });
  const stem = join(RESULTS, `fleet-${PHONES}-${when.slice(0, 19).replace(/[:T]/g, '-')}`);
  await writeFile(`${stem}.json`, JSON.stringify({ when, phones: PHONES, goal: GOAL, results, skipped }, null, 2) + '\n');
  await writeFile(`${stem}.md`, markdown(when, results, skipped));
  const pass = !failed && results.every((r) => r.pass.import && r.pass.reimport && r.pass.visible);
  process.stdout.write(`fleet: ${pass ? 'all goals met' : 'a goal was missed or a store failed'}; report ${stem}.md\n`);
  process.exitCode = pass ? 0 : 1;
}

await main();
