// FTP benchmark: polyprov against vsftpd (Debian package) in the same run, with the same client
// (curl, passive mode, one process per download).
//
//   npx tsx bench/ftp.ts [--repeats 5] [--concurrent 20] [--size-mb 50] [--tls] [--service core|fake]
//
// Targets (issue 5, "Speed"): one 50 MB download at most 2× vsftpd's time; 20 downloads at once
// at least 0.5× its throughput; every copy byte-identical (size checked for each, SHA-256 for the
// single downloads). Server CPU per transfer comes from /proc/<pid>/stat (utime+stime of the
// server plus cutime+cstime of the children it reaped: vsftpd forks per session), which is why
// polyprov runs in its own process (bench/ftp-server-child.ts).
// With --tls both servers also run explicit FTPS (AUTH TLS, PROT P) with a throw-away certificate.
// --service core (default) serves through the real boot service; fake measures the adapter alone.
// Needs root: vsftpd drops to its nopriv user and chroots the anonymous session, as it does by default.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const REPEATS = arg('repeats', 5);
const CONCURRENT = arg('concurrent', 20);
const SIZE = arg('size-mb', 50) * 1024 * 1024;
const WITH_TLS = process.argv.includes('--tls');
const SERVICE = process.argv.includes('--service') ? process.argv[process.argv.indexOf('--service') + 1]! : 'core';

interface Server {
  name: string;
  pid: number;
  port: number;
  /** URL user part. */
  login: string;
  stop(): Promise<void>;
}

/** Seeded xorshift32 content (seed 42), the same generator as the tests. */
function content(size: number, seed = 42): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, size);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** utime + stime + cutime + cstime in seconds (fields 14–17 of /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

interface ClientRun {
  ms: number;
  ok: boolean;
  bytes: number;
  detail: string;
}

function curlGet(server: Server, name: string, out: string, tls: boolean): Promise<ClientRun> {
  const args = ['-sS', '--max-time', '300', '-o', out, '-w', '%{size_download}'];
  if (tls) args.push('--ssl-reqd', '-k');
  args.push(`ftp://${server.login}@127.0.0.1:${server.port}/${name}`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 320_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ ms: performance.now() - t0, ok: !err, bytes: Number(stdout) || 0, detail: err ? `${err.message} ${stderr}`.trim() : '' });
    });
  });
}

async function waitReady(server: Server, scratch: string, tls: boolean): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await curlGet(server, 'ready.txt', join(scratch, `.ready-${server.port}`), tls);
    if (r.ok) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${server.name} did not come up on port ${server.port}`);
}

async function startPolyprov(dir: string, cert?: { cert: string; key: string }): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'ftp-server-child.ts'), dir, '0', ...(cert ? [cert.cert, cert.key] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, FTP_BENCH_SERVICE: SERVICE },
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`polyprov child exited ${c}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { name: cert ? 'polyprov (FTPS)' : 'polyprov', pid: child.pid!, port, login: 'PlcmSpIp:PlcmSpIp', stop: stopper(child) };
}

async function startVsftpd(dir: string, scratch: string, cert?: { cert: string; key: string }): Promise<Server> {
  const port = await freePort();
  const conf = join(scratch, `vsftpd-${port}.conf`);
  const lines = [
    'listen=YES',
    'listen_ipv6=NO',
    'listen_address=127.0.0.1',
    `listen_port=${port}`,
    'anonymous_enable=YES',
    'no_anon_password=YES',
    `anon_root=${dir}`,
    'local_enable=NO',
    'write_enable=NO',
    'pasv_enable=YES',
    'background=NO',
    'seccomp_sandbox=NO',
    'xferlog_enable=NO',
    'max_clients=0',
    'max_per_ip=0',
    'secure_chroot_dir=/var/run/vsftpd/empty',
  ];
  if (cert) {
    lines.push('ssl_enable=YES', 'allow_anon_ssl=YES', 'force_anon_data_ssl=YES', 'force_anon_logins_ssl=YES', `rsa_cert_file=${cert.cert}`, `rsa_private_key_file=${cert.key}`);
  }
  await writeFile(conf, `${lines.join('\n')}\n`);
  await mkdir('/var/run/vsftpd/empty', { recursive: true });
  const child = spawn('/usr/sbin/vsftpd', [conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  return { name: cert ? 'vsftpd (FTPS)' : 'vsftpd', pid: child.pid!, port, login: 'anonymous:', stop: stopper(child) };
}

interface SingleResult {
  medianMs: number;
  runsMs: number[];
  cpuMsPerTransfer: number;
  identical: boolean;
}

async function single(server: Server, expected: string, out: string, tls: boolean): Promise<SingleResult> {
  const runs: number[] = [];
  let identical = true;
  const cpu0 = cpuSeconds(server.pid);
  for (let i = 0; i < REPEATS; i++) {
    const r = await curlGet(server, 'sip.ld', out, tls);
    if (!r.ok) throw new Error(`${server.name}: ${r.detail}`);
    runs.push(r.ms);
    if (sha256(await readFile(out)) !== expected) identical = false;
  }
  await new Promise((r) => setTimeout(r, 300)); // let vsftpd reap its session processes
  const cpu = cpuSeconds(server.pid) - cpu0;
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, runsMs: runs, cpuMsPerTransfer: (cpu * 1000) / REPEATS, identical };
}

interface ConcurrentResult {
  wallMs: number;
  mbPerSec: number;
  cpuMsPerTransfer: number;
  allComplete: boolean;
}

async function concurrentRound(server: Server, tls: boolean): Promise<ConcurrentResult> {
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: CONCURRENT }, () => curlGet(server, 'sip.ld', '/dev/null', tls)));
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300)); // let vsftpd reap its session processes
  const cpu = cpuSeconds(server.pid) - cpu0;
  const allComplete = runs.every((r) => r.ok && r.bytes === SIZE);
  return { wallMs, mbPerSec: (CONCURRENT * SIZE) / (1024 * 1024) / (wallMs / 1000), cpuMsPerTransfer: (cpu * 1000) / CONCURRENT, allComplete };
}

/** Median of three rounds (by throughput): the machine is shared, one round is noisy. */
async function concurrent(server: Server, tls: boolean): Promise<ConcurrentResult> {
  const rounds: ConcurrentResult[] = [];
  for (let i = 0; i < 3; i++) rounds.push(await concurrentRound(server, tls));
  const mid = [...rounds].sort((a, b) => a.mbPerSec - b.mbPerSec)[1]!;
  return { ...mid, allComplete: rounds.every((r) => r.allComplete) };
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().split('\n')[0]!.trim();
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    return `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`.split('\n')[0]!.trim();
  }
}

interface Pair {
  label: string;
  polyprov: { single: SingleResult; concurrent: ConcurrentResult };
  vsftpd: { single: SingleResult; concurrent: ConcurrentResult };
  singleRatio: number;
  concurrentRatio: number;
  pass: { single: boolean; concurrent: boolean; identical: boolean };
}

async function compare(label: string, dir: string, scratch: string, expected: string, cert?: { cert: string; key: string }): Promise<Pair> {
  const tls = cert !== undefined;
  const poly = await startPolyprov(dir, cert);
  const vs = await startVsftpd(dir, scratch, cert);
  try {
    await waitReady(poly, scratch, tls);
    await waitReady(vs, scratch, tls);
    const out = join(scratch, 'out.bin');
    // Warm-up: page cache and JIT, one download each.
    await curlGet(vs, 'sip.ld', '/dev/null', tls);
    await curlGet(poly, 'sip.ld', '/dev/null', tls);
    const vsSingle = await single(vs, expected, out, tls);
    const polySingle = await single(poly, expected, out, tls);
    const vsConc = await concurrent(vs, tls);
    const polyConc = await concurrent(poly, tls);
    const singleRatio = polySingle.medianMs / vsSingle.medianMs;
    const concurrentRatio = polyConc.mbPerSec / vsConc.mbPerSec;
    return {
      label,
      polyprov: { single: polySingle, concurrent: polyConc },
      vsftpd: { single: vsSingle, concurrent: vsConc },
      singleRatio,
      concurrentRatio,
      pass: {
        single: singleRatio <= 2,
        concurrent: concurrentRatio >= 0.5,
        identical: polySingle.identical && vsSingle.identical && polyConc.allComplete && vsConc.allComplete,
      },
    };
  } finally {
    await poly.stop();
    await vs.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync('/usr/sbin/vsftpd')) throw new Error('vsftpd is not installed (apt-get install vsftpd)');
  const scratch = await mkdtemp(join(tmpdir(), 'polyprov-ftp-bench-'));
  const dir = join(scratch, 'root');
  await mkdir(dir);
  // vsftpd serves the anonymous session as its nopriv user from a chroot: world-readable, root-owned.
  await chmod(scratch, 0o755);
  await chmod(dir, 0o755);
  const data = content(SIZE);
  const expected = sha256(data);
  await writeFile(join(dir, 'sip.ld'), data, { mode: 0o644 });
  await writeFile(join(dir, 'ready.txt'), 'ready\n', { mode: 0o644 });
  const pairs: Pair[] = [];
  try {
    pairs.push(await compare('FTP', dir, scratch, expected));
    if (WITH_TLS) {
      const cert = { cert: join(scratch, 'cert.pem'), key: join(scratch, 'key.pem') };
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', cert.key, '-out', cert.cert], { stdio: 'ignore' });
      pairs.push(await compare('FTPS (AUTH TLS, PROT P)', dir, scratch, expected, cert));
    }
    const date = new Date().toISOString();
    const report = {
      date,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), node: process.version },
      versions: { vsftpd: version('sh', ['-c', '/usr/sbin/vsftpd -v 0>&1']), // vsftpd prints its version on fd 0
 curl: version('curl', ['--version']) },
      params: { sizeBytes: SIZE, repeats: REPEATS, concurrent: CONCURRENT, client: 'curl (passive, one process per download)', service: SERVICE },
      targets: { singleMaxRatio: 2, concurrentMinRatio: 0.5 },
      results: pairs,
    };
    const resultsDir = join(HERE, 'results');
    await mkdir(resultsDir, { recursive: true });
    const stem = join(resultsDir, `ftp-${date.slice(0, 10)}`);
    await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(`${stem}.md`, markdown(report));
    process.stdout.write(markdown(report));
    if (!pairs.every((p) => p.pass.single && p.pass.concurrent && p.pass.identical)) process.exitCode = 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function markdown(r: {
  date: string;
  machine: { cpus: number; model?: string; kernel: string; node: string };
  versions: { vsftpd: string; curl: string };
  params: { sizeBytes: number; repeats: number; concurrent: number; client: string; service: string };
  results: Pair[];
}): string {
  const mb = r.params.sizeBytes / (1024 * 1024);
  const f = (n: number, d = 1) => n.toFixed(d);
  const rows: string[] = [];
  for (const p of r.results) {
    rows.push(
      `| ${p.label} | one ${mb} MB download, median of ${r.params.repeats} (ms) | ${f(p.polyprov.single.medianMs)} | ${f(p.vsftpd.single.medianMs)} | ${f(p.singleRatio, 2)}× time | ≤ 2× | ${p.pass.single ? 'pass' : 'FAIL'} |`,
      `| ${p.label} | ${r.params.concurrent} at once, median of 3 rounds (MB/s) | ${f(p.polyprov.concurrent.mbPerSec)} | ${f(p.vsftpd.concurrent.mbPerSec)} | ${f(p.concurrentRatio, 2)}× throughput | ≥ 0.5× | ${p.pass.concurrent ? 'pass' : 'FAIL'} |`,
      `| ${p.label} | server CPU per transfer, single / concurrent (ms) | ${f(p.polyprov.single.cpuMsPerTransfer)} / ${f(p.polyprov.concurrent.cpuMsPerTransfer)} | ${f(p.vsftpd.single.cpuMsPerTransfer)} / ${f(p.vsftpd.concurrent.cpuMsPerTransfer)} | | | |`,
      `| ${p.label} | every copy complete and identical | ${p.polyprov.single.identical && p.polyprov.concurrent.allComplete} | ${p.vsftpd.single.identical && p.vsftpd.concurrent.allComplete} | | | ${p.pass.identical ? 'pass' : 'FAIL'} |`,
    );
  }
  return [
    `# FTP benchmark, ${r.date}`,
    '',
    `Machine: ${r.machine.cpus} × ${r.machine.model ?? 'cpu'}, Linux ${r.machine.kernel}, Node ${r.machine.node}. ${r.versions.vsftpd}; client ${r.versions.curl.split(' ').slice(0, 2).join(' ')} (${r.params.client}). Loopback (127.0.0.1).`,
    `polyprov runs in its own process (bench/ftp-server-child.ts) ${r.params.service === 'core' ? 'with the real boot service (store, policy, audit; staging account)' : 'over the file-backed test service (adapter alone)'}; CPU is utime+stime(+reaped children) from /proc/<pid>/stat.`,
    '',
    '| mode | measure | polyprov | vsftpd | ratio | target | |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

await main();
