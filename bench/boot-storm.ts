// The boot storm in `npm run bench` (issue 14 "Scale": "add the boot storm to it"): what
// `polyprov bench boot-storm --phones 10000 --transport http --stages application` runs — a tree of
// N phones generated (generateStormTree), `polyprov serve` started as a child, N virtual phones
// booting against it — with the report written under bench/results/ like the command's. The server
// runs as one process (`workers: 1`), as in the README's storm figures, so its CPU and peak RSS are
// one pid's (the command's own server takes the default, one worker per core, since issue 16). Target: no failed boot and the
// server's peak RSS ≤ 300 MB (README, Boot storms). POLYPROV_BENCH_PHONES sets N (default 10,000)
// for a quick run while developing.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateStormTree, stormMarkdown } from '../src/phone/storm.ts';
import { freshState, PHONES, RESULTS, serve, stormAgainst } from './fleet-harness.ts';

const RSS_GOAL_MB = 300;

async function main(): Promise<void> {
  const st = await freshState('sqlite', undefined, { workers: 1 });
  const root = join(st.dir, 'root');
  process.stderr.write(`generating a tree of ${PHONES} phones and an 8 MB image in ${root}\n`);
  await generateStormTree(root, PHONES, 8);
  const server = await serve(st, root);
  process.stderr.write(`polyprov serve pid ${server.pid} on http port ${server.http}\n`);
  const report = await stormAgainst(server, { everyMs: 5000, log: (m) => process.stderr.write(`${m}\n`) }).finally(async () => {
    await server.stop();
    await st.cleanup();
  });
  report.server = 'polyprov serve (child process, generated tree, workers 1)';
  report.serverStartedByBench = true;
  await mkdir(RESULTS, { recursive: true });
  const base = join(RESULTS, `boot-storm-http-app-${PHONES}-${report.when.slice(0, 19).replace(/[:T]/g, '-')}`);
  const rssOk = report.serverPeakRssMb !== undefined && report.serverPeakRssMb <= RSS_GOAL_MB;
  const pass = report.failedBoots === 0 && rssOk;
  await writeFile(`${base}.json`, JSON.stringify({ ...report, target: { failedBoots: 0, serverPeakRssMb: RSS_GOAL_MB, pass } }, null, 2) + '\n');
  await writeFile(`${base}.md`, stormMarkdown(report) + `\nTarget: no failed boot, server peak RSS ≤ ${RSS_GOAL_MB} MB: ${pass ? 'met' : 'MISSED'}.\n`);
  process.stdout.write(
    `boot storm: ${PHONES} phones over HTTP (application stage) in ${report.totalSeconds} s, ${report.bootsPerSecond} boots/s, ${report.failedBoots} failed, ` +
      `server CPU ${report.serverCpuSeconds ?? 'n/a'} s, peak RSS ${report.serverPeakRssMb ?? 'n/a'} MB (goal ≤ ${RSS_GOAL_MB}): ${pass ? 'pass' : 'FAIL'}\nreport: ${base}.md\n`,
  );
  process.exitCode = pass ? 0 : 1;
}

await main();
