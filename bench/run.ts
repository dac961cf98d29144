// `npm run bench`: every benchmark in turn, each writing its report under bench/results/.
// Each compares against the real peer on this machine in the same run (nginx, tftpd-hpa,
// atftpd, vsftpd) and reports ratios and server CPU per unit of work; the boot storm and the
// managed fleet's benchmarks (issue 14 "Scale") report against their goals. `npm run bench -- lint`
// runs one; POLYPROV_BENCH_PHONES shrinks the storms and fleets for a quick run. The profiling aids
// (`core-loop`: the core's own CPU and allocation per request without a socket; `audit-journal`:
// the recorder with the write-ahead journal on and off) run only when named.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const all = ['lint', 'http', 'http-nginx', 'tftp', 'ftp', 'boot-storm', 'fleet', 'managed-storm', 'api-phones', 'three-nodes'];
const aids = ['core-loop', 'audit-journal'];
const pick = process.argv.slice(2).filter((a) => all.includes(a) || aids.includes(a));
let failed = 0;
for (const name of pick.length ? pick : all) {
  process.stdout.write(`\n=== bench ${name} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}${name}.ts`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.stdout.write(`\n${failed ? `${failed} benchmark(s) missed a target or failed` : 'all benchmarks met their targets'}; reports in bench/results/\n`);
process.exitCode = failed ? 1 : 0;
