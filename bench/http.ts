// HTTP benchmark (issue 4, Speed): polyprov against nginx serving the same files on this
// machine in the same run, driven by wrk. Reports ratios and server CPU per request.
// Needs nginx (with the DAV module, Debian nginx-light) and wrk; installs them when missing.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWrk, waitPort, type WrkReport } from './measure.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const MAC = '0004f2000001';

function ensure(bin: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status === 0) return;
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit' });
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function treeCpu(pid: number): number {
  return cpuSeconds(pid) + childPids(pid).reduce((a, p) => a + cpuSeconds(p), 0);
}

type WrkResult = Omit<WrkReport, 'connectErrors'>;

function wrk(url: string, o: { conns: number; secs: number; close?: boolean; script?: string; threads?: number }): WrkResult {
  const args = [`-t${o.threads ?? 2}`, `-c${o.conns}`, `-d${o.secs}s`, '--latency', '--timeout', '5s'];
  if (o.close) args.push('-H', 'Connection: close');
  if (o.script) args.push('-s', o.script);
  const { rps, requests, p99ms, errors } = parseWrk(execFileSync('wrk', [...args, url], { encoding: 'utf8', maxBuffer: 1 << 22 }));
  return { rps, requests, p99ms, errors };
}

async function main(): Promise<void> {
  ensure('nginx', 'nginx-light');
  ensure('wrk', 'wrk');
  const work = mkdtempSync(join(tmpdir(), 'polyprov-bench-http-'));
  // nginx's worker runs as another user: it must be able to read the tree (a 0700 temp
  // directory made every nginx request a cheap 403 in the first runs, flattering nginx).
  chmodSync(work, 0o755);
  const root = join(work, 'site');
  mkdirSync(join(root, 'overrides'), { recursive: true });
  writeFileSync(join(root, '000000000000.cfg'), '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-line.cfg" OVERRIDES_DIRECTORY="overrides"/>');
  writeFileSync(join(root, `${MAC}-line.cfg`), `<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="secret" ${'feature.x="1" '.repeat(100)}/>`);
  writeFileSync(join(root, 'sip.ld'), Buffer.alloc(200 << 20, 1));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'k.pem'), '-out', join(work, 'c.pem'), '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' });
  const putLua = join(work, 'put.lua');
  writeFileSync(putLua, `wrk.method = "PUT"\nwrk.body = string.rep("x", 2000)\n`);

  const nginxPort = 18481;
  const nginxTls = 18482;
  const ppPort = 18483;
  const ppTls = 18484;
  const conf = join(work, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log; events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${work}/nginx-body;
  server { listen 127.0.0.1:${nginxPort} backlog=4096; listen 127.0.0.1:${nginxTls} ssl; ssl_certificate ${work}/c.pem; ssl_certificate_key ${work}/k.pem; ssl_session_cache off; ssl_session_tickets off;
    root ${root}; location /overrides/ { dav_methods PUT; create_full_put_path on; } } }`,
  );
  // One source address hammering the server would (rightly) be rate-limited: lift it for the bench.
  writeFileSync(join(work, 'polyprov.json'), JSON.stringify({ rateLimitPerSec: 1_000_000, rateLimitBurst: 1_000_000 }));
  const procs: ChildProcess[] = [];
  const nginx = spawn('nginx', ['-c', conf, '-p', work], { stdio: 'ignore' });
  procs.push(nginx);
  const pp = spawn(process.execPath, [join(repo, 'bin/polyprov'), 'serve', '--workers', '1', '--root', root, '--data', join(work, 'data'), '--http', `127.0.0.1:${ppPort}`, '--https', `127.0.0.1:${ppTls}`, '--cert', join(work, 'c.pem'), '--key', join(work, 'k.pem'), '--policy', 'open', '--log-level', 'error', '--config', join(work, 'polyprov.json')], {
    stdio: 'ignore',
  });
  procs.push(pp);
  // The floor: node:http alone answering every GET with the same bytes and headers from memory,
  // no provisioning logic at all. It shows how much of the gap to nginx is Node's HTTP stack.
  const floorPort = 18485;
  const floorSrc = `const b=require('fs').readFileSync(${JSON.stringify(join(root, `${MAC}-line.cfg`))});const d=new Date().toUTCString();
require('http').createServer((q,r)=>{r.writeHead(200,['content-type','application/xml','etag','"x"','last-modified',d,'accept-ranges','bytes','cache-control','no-cache','content-length',b.length]);r.end(b)}).listen({host:'127.0.0.1',port:${floorPort},backlog:4096});`;
  const floor = spawn(process.execPath, ['-e', floorSrc], { stdio: 'ignore' });
  procs.push(floor);
  const stop = () => procs.forEach((p) => p.kill('SIGTERM'));
  process.on('exit', stop);
  try {
    await Promise.all([waitPort(nginxPort), waitPort(ppPort), waitPort(ppTls), waitPort(floorPort)]);
  } catch (e) {
    stop();
    throw e;
  }
  // Both servers must actually serve the file and take the upload before anything is measured:
  // an error answer is cheap, and a ratio against it means nothing.
  for (const port of [nginxPort, ppPort]) {
    const get = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/${MAC}-line.cfg`], { encoding: 'utf8' });
    const put = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-T', putLua, `http://127.0.0.1:${port}/overrides/${MAC}-phone.cfg`], { encoding: 'utf8' });
    if (get !== '200' || !/^20[14]$/.test(put)) {
      stop();
      throw new Error(`server on port ${port} answered GET ${get}, PUT ${put}: fix the bench setup before comparing`);
    }
  }
  // nginx: one worker process and polyprov --workers 1 (serve's default is one per core since issue 16), so
  // the comparison is one event loop against one event loop; bench/http-nginx.ts compares 1 and 2 workers.
  const servers = {
    nginx: { pid: () => nginx.pid!, http: nginxPort, https: nginxTls },
    polyprov: { pid: () => pp.pid!, http: ppPort, https: ppTls },
    floor: { pid: () => floor.pid!, http: floorPort, https: floorPort },
  };
  const cfgPath = `/${MAC}-line.cfg`;
  const rows: Array<Record<string, unknown>> = [];
  const measure = (name: string, which: keyof typeof servers, url: string, o: Parameters<typeof wrk>[1]) => {
    const pid = servers[which].pid();
    const c0 = which === 'nginx' ? treeCpu(pid) : cpuSeconds(pid);
    const r = wrk(url, o);
    const cpu = (which === 'nginx' ? treeCpu(pid) : cpuSeconds(pid)) - c0;
    return { scenario: name, server: which, ...r, cpuMsPerReq: r.requests ? (cpu * 1000) / r.requests : NaN };
  };
  const scenarios: Array<{ name: string; path: string; o: Parameters<typeof wrk>[1]; tls?: boolean; target?: { ratio?: number; p99?: number } }> = [
    { name: 'per-phone config, keep-alive', path: cfgPath, o: { conns: 50, secs: 8 }, target: { ratio: 0.5 } },
    { name: 'per-phone config, new connection per request', path: cfgPath, o: { conns: 50, secs: 8, close: true }, target: { ratio: 0.45 } },
    // One wrk thread here: with two, the generator's own threads starve on this 2-core machine and
    // its latency tail measures itself (the node:http floor: p99 3.3 s with -t2, 0.36 s with -t1).
    { name: '1000 concurrent clients', path: cfgPath, o: { conns: 1000, secs: 8, threads: 1 }, target: { p99: 250 } },
    { name: 'HTTPS, full handshake per request', path: cfgPath, o: { conns: 20, secs: 8, close: true }, tls: true, target: { ratio: 0.7 } },
    { name: 'PUT upload (nginx WebDAV PUT)', path: `/overrides/${MAC}-phone.cfg`, o: { conns: 20, secs: 8, script: putLua }, target: { ratio: 0.5 } },
  ];
  const results: Array<Record<string, unknown>> = [];
  let missed = 0;
  for (const s of scenarios) {
    const per: Record<string, ReturnType<typeof measure>> = {};
    for (const which of ['nginx', 'polyprov'] as const) {
      const port = s.tls ? servers[which].https : servers[which].http;
      per[which] = measure(s.name, which, `${s.tls ? 'https' : 'http'}://127.0.0.1:${port}${s.path}`, s.o);
    }
    if (!s.tls && !s.o.script) per.floor = measure(s.name, 'floor', `http://127.0.0.1:${floorPort}${s.path}`, s.o);
    const ratio = per.polyprov!.rps / per.nginx!.rps;
    // A reference that answered with errors was measured doing something cheaper: no verdict.
    const valid = per.nginx!.errors <= per.nginx!.requests * 0.01;
    const ok = valid && (s.target?.ratio !== undefined ? ratio >= s.target.ratio : per.polyprov!.p99ms <= s.target!.p99! && per.polyprov!.errors === 0);
    if (!ok) missed++;
    results.push({ scenario: s.name, nginx: per.nginx, polyprov: per.polyprov, floor: per.floor, ratio, floorRatio: per.floor ? per.floor.rps / per.nginx!.rps : undefined, target: s.target, ok, valid });
    rows.push(per.nginx!, per.polyprov!);
    const fl = per.floor ? `; node:http floor ${per.floor.rps.toFixed(0)} (${(per.floor.rps / per.nginx!.rps).toFixed(2)}×, p99 ${per.floor.p99ms} ms, errors ${per.floor.errors})` : '';
    process.stdout.write(`${s.name}: polyprov ${per.polyprov!.rps.toFixed(0)} req/s (p99 ${per.polyprov!.p99ms} ms, errors ${per.polyprov!.errors}, ${per.polyprov!.cpuMsPerReq.toFixed(3)} ms CPU/req) vs nginx ${per.nginx!.rps.toFixed(0)} (${per.nginx!.cpuMsPerReq.toFixed(3)} ms CPU/req, errors ${per.nginx!.errors})${fl}: ${ratio.toFixed(2)}× ${!valid ? 'INVALID (nginx answered errors)' : ok ? 'ok' : 'MISSED'}\n`);
  }
  // Firmware streaming: CPU seconds per GB, 5 × 200 MB with curl.
  const gbCpu: Record<string, number> = {};
  for (const which of ['nginx', 'polyprov'] as const) {
    const pid = servers[which].pid();
    const c0 = which === 'nginx' ? treeCpu(pid) : cpuSeconds(pid);
    for (let i = 0; i < 5; i++) execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${servers[which].http}/sip.ld`]);
    gbCpu[which] = ((which === 'nginx' ? treeCpu(pid) : cpuSeconds(pid)) - c0) / ((5 * 200) / 1024);
  }
  const fwOk = gbCpu.polyprov! <= 1;
  if (!fwOk) missed++;
  process.stdout.write(`firmware streaming: polyprov ${gbCpu.polyprov!.toFixed(2)} CPU-s/GB, nginx ${gbCpu.nginx!.toFixed(2)} ${fwOk ? 'ok' : 'MISSED'} (target ≤ 1)\n`);
  // 500 aborted firmware downloads: open-file count before and after.
  const fds = () => readdirSync(`/proc/${pp.pid}/fd`).length;
  const before = fds();
  for (let i = 0; i < 500; i++) {
    await new Promise<void>((resolve) => {
      const s = connect(ppPort, '127.0.0.1', () => s.write('GET /sip.ld HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => resolve());
    });
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = fds();
  const abortOk = after <= before + 2;
  if (!abortOk) missed++;
  process.stdout.write(`500 aborted firmware downloads: open files ${before} → ${after} ${abortOk ? 'ok' : 'MISSED'}\n`);
  stop();

  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(join(repo, 'bench/results'), { recursive: true });
  const report = { date, machine: '2 cores, shared', results, firmwareCpuSecondsPerGB: gbCpu, abortedDownloads: { before, after }, missed };
  writeFileSync(join(repo, `bench/results/http-${date}.json`), JSON.stringify(report, null, 2));
  const md = [
    `# HTTP benchmark ${date}`,
    '',
    'polyprov (one Node process) against nginx (one worker) on the same 2-core machine, same run, wrk -t2 (-t1 for 1000 clients). The floor is node:http alone answering from memory with no provisioning logic: the most any one-process Node server can reach here.',
    '',
    '| scenario | polyprov req/s | nginx req/s | ratio | target | polyprov CPU ms/req | nginx CPU ms/req | polyprov p99 ms | errors | node:http floor req/s (ratio, p99 ms) |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---|',
    ...results.map((r) => {
      const p = r.polyprov as ReturnType<typeof measure>;
      const n = r.nginx as ReturnType<typeof measure>;
      const f = r.floor as ReturnType<typeof measure> | undefined;
      const t = r.target as { ratio?: number; p99?: number };
      const verdict = !r.valid ? '**invalid: nginx answered errors**' : r.ok ? 'ok' : '**missed**';
      return `| ${r.scenario} | ${p.rps.toFixed(0)} | ${n.rps.toFixed(0)} | ${(r.ratio as number).toFixed(2)} | ${t.ratio !== undefined ? `≥ ${t.ratio}×` : `p99 < ${t.p99} ms, no errors`} ${verdict} | ${p.cpuMsPerReq.toFixed(3)} | ${n.cpuMsPerReq.toFixed(3)} | ${p.p99ms} | ${p.errors} | ${f ? `${f.rps.toFixed(0)} (${(f.rps / n.rps).toFixed(2)}×, ${f.p99ms})` : '–'} |`;
    }),
    '',
    `Firmware streaming: polyprov ${gbCpu.polyprov!.toFixed(2)} CPU-s/GB, nginx ${gbCpu.nginx!.toFixed(2)} (target ≤ 1). 500 aborted downloads: open files ${before} → ${after}.`,
    '',
  ].join('\n');
  writeFileSync(join(repo, `bench/results/http-${date}.md`), md);
  process.stdout.write(`report: bench/results/http-${date}.{json,md}\n`);
  process.exitCode = missed ? 1 : 0;
}

await main();
