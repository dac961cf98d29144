// HTTP speed against nginx with the same number of workers (issue 16, Speed): `npm run bench --
// http-nginx`. For 1 and then 2 workers, three servers answer the same tree on 127.0.0.1 — nginx
// (worker_processes N), polyprov (`serve --workers N`) and the node:http floor (N cluster workers
// answering every GET from memory with the same headers and no provisioning logic) — and wrk
// drives each in turn, interleaved round by round (the machine is shared and noisy: a ratio is
// only worth something between runs made side by side), the median of the rounds reported.
// Server CPU per request is the servers' process trees' CPU over the requests; wrk's own CPU is
// reported too (on 2 cores it competes with the servers). With one worker, the servers are
// pinned to CPU 1 and wrk to CPU 0 (taskset), so the generator does not take the server's core.
// Then, in this process, a warm-cache boot counts the store calls each boot makes (goal: no read
// and at most one write batch per boot). POLYPROV_BENCH_SECS (default 4) and
// POLYPROV_BENCH_ROUNDS (default 3) shorten or lengthen it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countStoreCalls, warmBoots } from './http-boot-count.ts';
import { median, parseWrk, waitPort, type WrkReport } from './measure.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const MAC = '0004f2000001';
const SECS = Number(process.env.POLYPROV_BENCH_SECS ?? 4);
const ROUNDS = Number(process.env.POLYPROV_BENCH_ROUNDS ?? 3);
const SERVERS = ['nginx', 'polyprov', 'floor'] as const;
type ServerName = (typeof SERVERS)[number];

function ensure(bin: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0) return;
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit' });
}

function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of a process and every descendant alive now. */
function treeCpu(pid: number): number {
  let total = cpuOf(pid);
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* gone */
  }
  for (const k of kids) total += treeCpu(k);
  return total;
}

interface Run extends WrkReport {
  serverCpuUsPerReq: number;
  wrkCpuS: number;
}

function wrk(pid: number, url: string, o: { conns: number; close?: boolean; pin?: string }): Run {
  const args = ['-t1', `-c${o.conns}`, `-d${SECS}s`, '--latency', '--timeout', '5s'];
  if (o.close) args.push('-H', 'Connection: close');
  const cmd = o.pin ? ['taskset', '-c', o.pin, 'wrk', ...args, url] : ['wrk', ...args, url];
  const c0 = treeCpu(pid);
  // /usr/bin/time reports the generator's own CPU (user + system seconds) on stderr.
  const r = spawnSync('/usr/bin/time', ['-f', 'WRKCPU %U %S', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 22 });
  const cpu = treeCpu(pid) - c0;
  const report = parseWrk(r.stdout);
  const w = /WRKCPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ...report, serverCpuUsPerReq: report.requests ? (cpu * 1e6) / report.requests : NaN, wrkCpuS: w ? Number(w[1]) + Number(w[2]) : NaN };
}

function makeTree(work: string): string {
  const root = join(work, 'site');
  mkdirSync(join(root, 'overrides'), { recursive: true });
  writeFileSync(join(root, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-line.cfg, site.cfg" OVERRIDES_DIRECTORY="overrides"/>');
  writeFileSync(join(root, `${MAC}-line.cfg`), `<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" ${'feature.x="1" '.repeat(70)}/>`);
  writeFileSync(join(root, 'site.cfg'), `<polycomConfig ${'tcpIpApp.sntp.address="pool.ntp.org" '.repeat(27)}/>`.slice(0, 1024));
  writeFileSync(join(root, 'sip.ld'), Buffer.alloc(1 << 20, 1));
  return root;
}

async function startServers(work: string, root: string, workers: number, base: number): Promise<{ pids: Record<ServerName, () => number>; ports: Record<ServerName, number>; stop: () => void }> {
  const pin = workers === 1 ? ['taskset', '-c', '1'] : [];
  const ports = { nginx: base, polyprov: base + 1, floor: base + 2 };
  const conf = join(work, `nginx-${workers}.conf`);
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes ${workers}; daemon off; pid ${work}/nginx-${workers}.pid; error_log ${work}/nginx-error.log; events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:${ports.nginx} backlog=4096; root ${root}; } }`,
  );
  const floorSrc = `const c=require('cluster');if(c.isPrimary){for(let i=0;i<${workers};i++)c.fork()}else{const b=require('fs').readFileSync(${JSON.stringify(join(root, `${MAC}-line.cfg`))});const d=new Date().toUTCString();
require('http').createServer((q,r)=>{r.writeHead(200,['content-type','application/xml','etag','"x"','last-modified',d,'accept-ranges','bytes','cache-control','no-cache','content-length',b.length]);r.end(b)}).listen({host:'127.0.0.1',port:${ports.floor},backlog:4096})}`;
  writeFileSync(join(work, 'polyprov.json'), JSON.stringify({ rateLimitPerSec: 1_000_000, rateLimitBurst: 1_000_000 }));
  const launch = (argv: string[]): ChildProcess => {
    const all = [...pin, ...argv];
    return spawn(all[0]!, all.slice(1), { stdio: 'ignore' });
  };
  const nginx = launch(['nginx', '-c', conf, '-p', work]);
  const pp = launch([process.execPath, join(repo, 'bin/polyprov'), 'serve', '--workers', String(workers), '--root', root, '--data', join(work, `data-${workers}`), '--http', `127.0.0.1:${ports.polyprov}`, '--policy', 'open', '--log-level', 'error', '--config', join(work, 'polyprov.json')]);
  const floorFile = join(work, `floor-${workers}.cjs`); // a file: cluster workers re-run the primary's script
  writeFileSync(floorFile, floorSrc);
  const floor = launch([process.execPath, floorFile]);
  const procs = [nginx, pp, floor];
  const stop = () => procs.forEach((p) => p.kill('SIGTERM'));
  process.on('exit', stop);
  await Promise.all(Object.values(ports).map((p) => waitPort(p, 60_000, 200)));
  return { pids: { nginx: () => nginx.pid!, polyprov: () => pp.pid!, floor: () => floor.pid! }, ports, stop };
}

interface Scenario {
  name: string;
  path: string;
  conns: number;
  close?: boolean;
  goal?: { nginx?: number; floor?: number; noErrors?: boolean };
}

const SCENARIOS: Scenario[] = [
  { name: 'per-phone config, keep-alive', path: `/${MAC}-line.cfg`, conns: 50, goal: { nginx: 0.35, floor: 0.6 } },
  { name: 'shared 1 KB file, keep-alive', path: '/site.cfg', conns: 50 },
  { name: 'per-phone config, new connection per request', path: `/${MAC}-line.cfg`, conns: 50, close: true, goal: { nginx: 0.3 } },
  { name: '1,000 concurrent clients, keep-alive', path: `/${MAC}-line.cfg`, conns: 1000, goal: { noErrors: true } },
];

async function main(): Promise<void> {
  ensure('nginx', 'nginx-light');
  ensure('wrk', 'wrk');
  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-http-nginx-'));
  chmodSync(work, 0o755); // nginx's worker reads the tree as another user
  const root = makeTree(work);
  const load0 = loadavg();
  const results: Array<Record<string, unknown>> = [];
  let missed = 0;
  for (const workers of [1, 2]) {
    const s = await startServers(work, root, workers, 18600 + workers * 10);
    try {
      for (const [name, port] of Object.entries(s.ports)) {
        const code = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/${MAC}-line.cfg`], { encoding: 'utf8' });
        if (code !== '200') throw new Error(`${name} answered ${code}: fix the bench setup before comparing`);
      }
      // Warm every worker, 3 s each, the same for all three (polyprov's first reads hash and cache the
      // files, its JIT settles, its first audit writes grow the database; the first scenario measured
      // is the keep-alive one, which a 1 s warm-up left partly cold).
      for (const name of SERVERS) spawnSync('wrk', ['-t1', '-c50', '-d3s', `http://127.0.0.1:${s.ports[name]}/${MAC}-line.cfg`]);
      for (const sc of SCENARIOS) {
        const runs: Record<ServerName, Run[]> = { nginx: [], polyprov: [], floor: [] };
        for (let r = 0; r < ROUNDS; r++) {
          // Rotate the order each round: no server always runs right after the same one.
          for (let i = 0; i < SERVERS.length; i++) {
            const name = SERVERS[(i + r) % SERVERS.length]!;
            runs[name].push(wrk(s.pids[name](), `http://127.0.0.1:${s.ports[name]}${sc.path}`, { conns: sc.conns, close: sc.close, pin: workers === 1 ? '0' : undefined }));
          }
        }
        const med = (name: ServerName) => ({
          rps: median(runs[name].map((x) => x.rps)),
          p99ms: median(runs[name].map((x) => x.p99ms)),
          errors: runs[name].reduce((a, x) => a + x.errors, 0),
          serverCpuUsPerReq: median(runs[name].map((x) => x.serverCpuUsPerReq)),
          wrkCpuS: median(runs[name].map((x) => x.wrkCpuS)),
          rounds: runs[name].map((x) => Math.round(x.rps)),
        });
        const row = { workers, scenario: sc.name, nginx: med('nginx'), polyprov: med('polyprov'), floor: med('floor') };
        const vsNginx = row.polyprov.rps / row.nginx.rps;
        const vsFloor = row.polyprov.rps / row.floor.rps;
        const g = sc.goal ?? {};
        const ok = (g.nginx === undefined || vsNginx >= g.nginx) && (g.floor === undefined || vsFloor >= g.floor) && (!g.noErrors || row.polyprov.errors === 0);
        if (sc.goal && !ok) missed++;
        results.push({ ...row, vsNginx, vsFloor, goal: sc.goal, ok: sc.goal ? ok : undefined });
        process.stdout.write(
          `${workers} worker(s), ${sc.name}: polyprov ${row.polyprov.rps.toFixed(0)} req/s (${row.polyprov.serverCpuUsPerReq.toFixed(1)} µs CPU/req, p99 ${row.polyprov.p99ms} ms, errors ${row.polyprov.errors}) · nginx ${row.nginx.rps.toFixed(0)} (${row.nginx.serverCpuUsPerReq.toFixed(1)} µs, errors ${row.nginx.errors}) · floor ${row.floor.rps.toFixed(0)} (${row.floor.serverCpuUsPerReq.toFixed(1)} µs, errors ${row.floor.errors}) → ${vsNginx.toFixed(2)}× nginx, ${vsFloor.toFixed(2)}× floor${sc.goal ? (ok ? ' ok' : ' MISSED') : ''}\n`,
        );
      }
    } finally {
      s.stop();
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Per boot on a warm cache: store calls (issue 16 Speed).
  const boots = await warmBoots(join(work, 'data-count'), root, countStoreCalls);
  const bootsOk = boots.readsPerBoot === 0 && boots.writeBatchesPerBoot <= 1;
  if (!bootsOk) missed++;
  process.stdout.write(`warm boots: ${boots.boots} boots, ${boots.readsPerBoot.toFixed(2)} store reads and ${boots.writeBatchesPerBoot.toFixed(2)} write batches per boot ${bootsOk ? 'ok' : 'MISSED'} (reads by call: ${JSON.stringify(boots.readsByCall)})\n`);
  const load1 = loadavg();
  const date = new Date().toISOString().slice(0, 10);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-'); // one file per run
  const report = { date, machine: '2 cores, shared with other sessions', load: { before: load0, after: load1 }, secondsPerRun: SECS, rounds: ROUNDS, results, boots, missed };
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  writeFileSync(join(repo, `bench/results/http-nginx-${stamp}.json`), JSON.stringify(report, null, 2));
  process.stdout.write(`load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}\nreport: bench/results/http-nginx-${stamp}.json\n`);
  process.exitCode = missed ? 1 : 0;
}

await main();
