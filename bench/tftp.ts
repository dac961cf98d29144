// TFTP benchmark: polyprov against tftpd-hpa and atftpd from the Debian packages, in the same run,
// with the same client (atftp, which speaks blksize, tsize and windowsize).
//
//   npx tsx bench/tftp.ts [--repeats 9] [--concurrent 100] [--concurrent-mb 1] [--concurrent-rounds 5]
//
// Targets (issue 5, "Speed"): one 5 MB transfer with blksize 1468 at most 1.2× tftpd-hpa's time;
// with windowsize 16 (which tftpd-hpa ignores) at least 3× faster than tftpd-hpa; 100 transfers
// at once at least 0.8× atftpd's throughput; every copy byte-identical. Server CPU per transfer
// comes from a cgroup per server (or /proc/<pid>/stat), which is why polyprov runs in its own
// process (bench/tftp-server-child.ts: one read worker per core unless POLYPROV_TFTP_WORKERS
// says otherwise).
//
// The concurrent runs are CPU-bound on a 2-core machine: 100 atftp clients and the server share
// the cores, so a server's CPU per transfer decides its throughput, and load from other work on
// the machine moves the figures by ±30%. Each concurrent run is therefore repeated
// (--concurrent-rounds), every server in turn in each round, starting with a different one each
// time, and the medians are compared; the report gives every round and the load average.
//
// atftpd conflicts with tftpd-hpa as a Debian package, so it is not installed: the script takes
// `atftpd` from PATH if present, otherwise fetches the package with `apt-get download atftpd`
// and unpacks it with `dpkg -x` into a cache directory under the system temp dir. Its libraries
// (libwrap0, libpcre2-8-0) are ordinary dependencies already present on Debian with atftp.
// Needs root for tftpd-hpa and atftpd to drop privileges to nobody as they do by default.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
const REPEATS = arg('repeats', 9);
const CONCURRENT = arg('concurrent', 100);
const CONCURRENT_MB = arg('concurrent-mb', 1);
const CONCURRENT_ROUNDS = arg('concurrent-rounds', 5);
const CONCURRENT_SERVERS: string[] = ['atftpd', 'polyprov', 'tftpd-hpa'];

interface Server {
  name: string;
  pid: number;
  port: number;
  cpu: CpuMeter;
  stop(): Promise<void>;
  /** polyprov's read workers (tftpWorkers). */
  workers?: number;
}

/** Seeded xorshift32 content. */
function content(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface CpuMeter {
  /** Seconds of CPU used so far by the server and every process it forked. */
  read(): number;
  method: string;
  dispose(): void;
}

/**
 * tftpd-hpa forks a child per transfer and ignores SIGCHLD, so its children are reaped by the
 * kernel and never show in the parent's cutime. A cgroup counts them: cgroup v2 cpu.stat or
 * v1 cpuacct.usage. Without cgroup access, fall back to /proc/<pid>/stat (utime+stime+cutime+
 * cstime), which undercounts forking servers; the report names the method used.
 */
function cpuMeter(pid: number, name: string): CpuMeter {
  const tag = `polyprov-bench-${name}-${pid}`;
  const candidates = [
    { dir: join('/sys/fs/cgroup', tag), probe: '/sys/fs/cgroup/cgroup.controllers', file: 'cpu.stat', method: 'cgroup v2 cpu.stat' },
    { dir: join('/sys/fs/cgroup/cpuacct', tag), probe: '/sys/fs/cgroup/cpuacct/cpuacct.usage', file: 'cpuacct.usage', method: 'cgroup v1 cpuacct' },
  ];
  for (const c of candidates) {
    if (!existsSync(c.probe)) continue;
    try {
      mkdirSync(c.dir);
      writeFileSync(join(c.dir, 'cgroup.procs'), String(pid));
      const read = (): number => {
        const text = readFileSync(join(c.dir, c.file), 'utf8');
        if (c.file === 'cpuacct.usage') return Number(text.trim()) / 1e9;
        const m = /usage_usec (\d+)/.exec(text);
        return m ? Number(m[1]) / 1e6 : 0;
      };
      read();
      return {
        read,
        method: c.method,
        dispose: () => {
          try {
            rmdirSync(c.dir);
          } catch {
            // Still populated (a process outlived stop()); the kernel frees it when empty.
          }
        },
      };
    } catch {
      try {
        rmdirSync(c.dir);
      } catch {
        // never created
      }
    }
  }
  return { read: () => procCpuSeconds(pid), method: '/proc/<pid>/stat utime+stime+cutime+cstime', dispose: () => {} };
}

/** utime + stime + cutime + cstime in seconds (fields 14–17 of /proc/<pid>/stat). */
function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14 → index 11.
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

const cpuSeconds = (server: Server): number => server.cpu.read();

/** Lets a forked transfer process finish its last ACK before CPU is read. */
const settle = (server: Server): Promise<void> => new Promise((r) => setTimeout(r, server.name === 'tftpd-hpa' ? 50 : 5));

function stopper(child: ChildProcess, cpu: CpuMeter): () => Promise<void> {
  return async () => {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
    await new Promise((r) => setTimeout(r, 200)); // forked transfer processes exit too
    cpu.dispose();
  };
}

interface ClientRun {
  ms: number;
  ok: boolean;
  detail: string;
}

function atftpGet(port: number, name: string, local: string, options: string[]): Promise<ClientRun> {
  const args = [...options.flatMap((o) => ['--option', o]), '-g', '-r', name, '-l', local, '127.0.0.1', String(port)];
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile('atftp', args, { timeout: 180_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ ms: performance.now() - t0, ok: !err, detail: err ? `${err.message} ${stderr}`.trim() : '' });
    });
  });
}

/** Waits until the server answers a tiny RRQ. */
async function waitReady(port: number, dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await atftpGet(port, 'ready.txt', join(dir, `.ready-${port}`), []);
    if (r.ok) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`server on port ${port} never answered`);
}

async function startPolyprov(dir: string, scratch: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'tftp-server-child.ts'), dir], {
    cwd: join(HERE, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`polyprov child exited with ${code}`)));
  });
  const { port, workers } = JSON.parse(line) as { port: number; workers: number };
  const cpu = cpuMeter(child.pid!, 'polyprov');
  await waitReady(port, scratch);
  return { name: 'polyprov', pid: child.pid!, port, cpu, stop: stopper(child, cpu), workers };
}

async function startHpa(dir: string, scratch: string): Promise<Server> {
  const port = await freeUdpPort();
  // -L: foreground, one process listening, a forked child per transfer (reaped, so its CPU shows in cutime).
  const child = spawn('/usr/sbin/in.tftpd', ['-L', '-s', dir, '-a', `127.0.0.1:${port}`], { stdio: 'inherit' });
  const cpu = cpuMeter(child.pid!, 'tftpd-hpa');
  await waitReady(port, scratch);
  return { name: 'tftpd-hpa', pid: child.pid!, port, cpu, stop: stopper(child, cpu) };
}

/** atftpd from PATH, or unpacked from the Debian package into a cache dir (see the header). */
function atftpdBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v atftpd'], { encoding: 'utf8' }).trim() || fetchAtftpd();
  } catch {
    return fetchAtftpd();
  }
}

function fetchAtftpd(): string {
  const cache = join(tmpdir(), 'polyprov-bench-atftpd');
  const bin = join(cache, 'root', 'usr', 'sbin', 'atftpd');
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  if (!readdirSync(cache).some((f) => f.endsWith('.deb'))) {
    execFileSync('apt-get', ['download', 'atftpd'], { cwd: cache, stdio: 'inherit' });
  }
  const deb = readdirSync(cache).find((f) => f.startsWith('atftpd_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download atftpd left no .deb in ${cache}`);
  execFileSync('dpkg', ['-x', join(cache, deb), join(cache, 'root')], { stdio: 'inherit' });
  return bin;
}

async function startAtftpd(dir: string, scratch: string): Promise<Server> {
  const port = await freeUdpPort();
  const child = spawn(
    atftpdBinary(),
    ['--daemon', '--no-fork', '--logfile', '/dev/null', '--maxthread', '400', '--port', String(port), '--bind-address', '127.0.0.1', dir],
    { stdio: 'inherit' },
  );
  const cpu = cpuMeter(child.pid!, 'atftpd');
  await waitReady(port, scratch);
  return { name: 'atftpd', pid: child.pid!, port, cpu, stop: stopper(child, cpu) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface SingleResult {
  server: string;
  options: string[];
  runsMs: number[];
  medianMs: number;
  mbPerSec: number;
  cpuMsPerTransfer: number;
  identical: boolean;
}

/**
 * Runs the servers in turn, REPEATS rounds, so a load spike on a shared machine hits every
 * server alike; each server's median is reported.
 */
async function singles(servers: Server[], name: string, expected: string, size: number, options: string[], out: string): Promise<SingleResult[]> {
  const runs = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const cpu = new Map<string, number>();
  const identical = new Map<string, boolean>(servers.map((s) => [s.name, true]));
  for (let i = 0; i < REPEATS; i++) {
    for (const server of servers) {
      const local = join(out, `${server.name}-${i}.bin`);
      const cpu0 = cpuSeconds(server);
      const r = await atftpGet(server.port, name, local, options);
      if (!r.ok) throw new Error(`${server.name} ${options.join(',')}: ${r.detail}`);
      await settle(server);
      cpu.set(server.name, (cpu.get(server.name) ?? 0) + cpuSeconds(server) - cpu0);
      runs.get(server.name)!.push(r.ms);
      if (sha256(await readFile(local)) !== expected) identical.set(server.name, false);
      await rm(local, { force: true });
    }
  }
  return servers.map((server) => {
    const med = median(runs.get(server.name)!);
    return {
      server: server.name,
      options,
      runsMs: runs.get(server.name)!.map((x) => Math.round(x * 10) / 10),
      medianMs: round(med),
      mbPerSec: round(size / 1e6 / (med / 1000)),
      cpuMsPerTransfer: round(((cpu.get(server.name) ?? 0) * 1000) / REPEATS),
      identical: identical.get(server.name)!,
    };
  });
}

interface ConcurrentRun {
  wallMs: number;
  cpuMsPerTransfer: number;
  /** CPU of the atftp clients (this process's reaped children) per transfer. */
  clientCpuMsPerTransfer: number;
  failures: number;
  identical: boolean;
}

interface ConcurrentResult {
  server: string;
  options: string[];
  transfers: number;
  bytesEach: number;
  rounds: number;
  /** Medians over the rounds. */
  wallMs: number;
  mbPerSec: number;
  cpuMsPerTransfer: number;
  clientCpuMsPerTransfer: number;
  /** Totals over the rounds. */
  failures: number;
  identical: boolean;
  runs: ConcurrentRun[];
}

/** CPU seconds of this process's reaped children (the atftp clients): cutime + cstime. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function concurrentOnce(server: Server, name: string, expected: string, options: string[], out: string): Promise<ConcurrentRun> {
  const cpu0 = cpuSeconds(server);
  const kids0 = childrenCpuSeconds();
  const t0 = performance.now();
  const runs = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) => atftpGet(server.port, name, join(out, `${server.name}-c${i}.bin`), options)),
  );
  const wall = performance.now() - t0;
  const clientMs = ((childrenCpuSeconds() - kids0) * 1000) / CONCURRENT;
  await settle(server);
  const cpuMs = ((cpuSeconds(server) - cpu0) * 1000) / CONCURRENT;
  let identical = true;
  for (let i = 0; i < CONCURRENT; i++) {
    const local = join(out, `${server.name}-c${i}.bin`);
    const got = existsSync(local) ? sha256(await readFile(local)) : '';
    if (got !== expected) identical = false;
    await rm(local, { force: true });
  }
  return {
    wallMs: round(wall),
    cpuMsPerTransfer: round(cpuMs),
    clientCpuMsPerTransfer: round(clientMs),
    failures: runs.filter((r) => !r.ok).length,
    identical,
  };
}

/** CONCURRENT_ROUNDS rounds, every server in turn, the first one rotating; medians per server. */
async function concurrent(servers: Server[], name: string, expected: string, size: number, options: string[], out: string): Promise<ConcurrentResult[]> {
  const runs = new Map<string, ConcurrentRun[]>(servers.map((s) => [s.name, []]));
  for (let r = 0; r < CONCURRENT_ROUNDS; r++) {
    for (let k = 0; k < servers.length; k++) {
      const server = servers[(r + k) % servers.length];
      const run = await concurrentOnce(server, name, expected, options, out);
      process.stderr.write(`  round ${r + 1}: ${server.name} ${run.wallMs} ms, server CPU ${run.cpuMsPerTransfer} ms/transfer\n`);
      runs.get(server.name)!.push(run);
    }
  }
  return servers.map((server) => {
    const rs = runs.get(server.name)!;
    const wall = median(rs.map((x) => x.wallMs));
    return {
      server: server.name,
      options,
      transfers: CONCURRENT,
      bytesEach: size,
      rounds: rs.length,
      wallMs: round(wall),
      mbPerSec: round((size * CONCURRENT) / 1e6 / (wall / 1000)),
      cpuMsPerTransfer: round(median(rs.map((x) => x.cpuMsPerTransfer))),
      clientCpuMsPerTransfer: round(median(rs.map((x) => x.clientCpuMsPerTransfer))),
      failures: rs.reduce((n, x) => n + x.failures, 0),
      identical: rs.every((x) => x.identical),
      runs: rs,
    };
  });
}

const round = (x: number): number => Math.round(x * 100) / 100;

function version(cmd: string, args: string[]): string {
  // Some print their version on stderr (atftp), some exit non-zero after printing it (in.tftpd -V).
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || 'unknown';
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'polyprov-bench-tftp-'));
  const dir = join(work, 'root');
  const out = join(work, 'out');
  await mkdir(dir);
  await mkdir(out);
  // The daemons drop to nobody: the tree must be world-readable.
  await chmod(work, 0o755);
  await chmod(dir, 0o755);
  const five = content(5 * 1024 * 1024, 42);
  const conc = content(CONCURRENT_MB * 1024 * 1024, 43);
  await writeFile(join(dir, 'five.ld'), five, { mode: 0o644 });
  await writeFile(join(dir, 'conc.ld'), conc, { mode: 0o644 });
  await writeFile(join(dir, 'ready.txt'), 'ready\n', { mode: 0o644 });

  const servers: Server[] = [];
  try {
    const poly = await startPolyprov(dir, out);
    servers.push(poly);
    const hpa = await startHpa(dir, out);
    servers.push(hpa);
    const atftpd = await startAtftpd(dir, out);
    servers.push(atftpd);

    const fiveHash = sha256(five);
    const concHash = sha256(conc);
    const B1468 = ['blksize 1468'];
    const W16 = ['blksize 1468', 'windowsize 16'];
    const log = (s: string) => process.stderr.write(`${s}\n`);

    const singleRuns: SingleResult[] = [];
    log('5 MB, blksize 1468');
    singleRuns.push(...(await singles([hpa, poly, atftpd], 'five.ld', fiveHash, five.length, B1468, out)));
    log('5 MB, blksize 1468 + windowsize 16');
    singleRuns.push(...(await singles([hpa, poly, atftpd], 'five.ld', fiveHash, five.length, W16, out)));
    if (process.argv.includes('--singles-only')) CONCURRENT_SERVERS.length = 0;
    const concs: ConcurrentResult[] = [];
    // The target is measured lock-step (blksize 1468), the mode every phone speaks; windowsize 16
    // is reported alongside for information.
    const load = { before: loadAverage(), after: '' };
    for (const opts of CONCURRENT_SERVERS.length === 0 ? [] : [B1468, W16]) {
      log(`${CONCURRENT} × ${CONCURRENT_MB} MB at once, ${opts.join(', ')}, ${CONCURRENT_ROUNDS} rounds`);
      concs.push(...(await concurrent([atftpd, poly, hpa], 'conc.ld', concHash, conc.length, opts, out)));
    }
    load.after = loadAverage();

    const find = (server: string, opts: string[]) => singleRuns.find((r) => r.server === server && r.options === opts)!;
    const findC = (server: string) => concs.find((r) => r.server === server && r.options === B1468)!;
    const verdicts = {
      blksize1468_vs_tftpd_hpa: {
        ratio: round(find('polyprov', B1468).medianMs / find('tftpd-hpa', B1468).medianMs),
        target: '≤ 1.2 (polyprov time / tftpd-hpa time)',
      },
      windowsize16_vs_tftpd_hpa: {
        ratio: round(find('tftpd-hpa', W16).medianMs / find('polyprov', W16).medianMs),
        target: '≥ 3 (tftpd-hpa time / polyprov time)',
      },
      concurrent_vs_atftpd: {
        ratio: concs.length ? round(findC('polyprov').mbPerSec / findC('atftpd').mbPerSec) : Number.NaN,
        target: '≥ 0.8 (polyprov throughput / atftpd throughput)',
      },
      all_identical: singleRuns.every((r) => r.identical) && concs.every((r) => r.identical && r.failures === 0),
    };
    const pass = {
      blksize1468: verdicts.blksize1468_vs_tftpd_hpa.ratio <= 1.2,
      windowsize16: verdicts.windowsize16_vs_tftpd_hpa.ratio >= 3,
      concurrent: verdicts.concurrent_vs_atftpd.ratio >= 0.8,
      identical: verdicts.all_identical,
    };
    const date = new Date().toISOString();
    const report = {
      date,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, kernel: release(), node: process.version },
      peers: {
        client: version('atftp', ['--version']),
        'tftpd-hpa': version('/usr/sbin/in.tftpd', ['-V']),
        atftpd: version(atftpdBinary(), ['--version']),
      },
      repeats: REPEATS,
      polyprovWorkers: poly.workers,
      loadAverage: load,
      cpuMethod: Object.fromEntries(servers.map((s) => [s.name, s.cpu.method])),
      singles: singleRuns,
      concurrent: concs,
      verdicts,
      pass,
    };
    const resultsDir = join(HERE, 'results');
    await mkdir(resultsDir, { recursive: true });
    const stem = join(resultsDir, `tftp-${date.slice(0, 10)}`);
    process.stdout.write(markdown(report));
    // A partial run (--singles-only, for tuning) is printed, never recorded.
    if (concs.length > 0) {
      await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(`${stem}.md`, markdown(report));
      process.stdout.write(`\nwritten: ${stem}.json, ${stem}.md\n`);
      // The runner (bench/run.ts) counts a missed target as a failed benchmark.
      if (!Object.values(pass).every(Boolean)) process.exitCode = 1;
    }
  } finally {
    for (const s of servers) await s.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function markdown(r: {
  date: string;
  machine: Record<string, unknown>;
  peers: Record<string, string>;
  repeats: number;
  polyprovWorkers?: number;
  loadAverage: { before: string; after: string };
  cpuMethod: Record<string, string>;
  singles: SingleResult[];
  concurrent: ConcurrentResult[];
  verdicts: Record<string, unknown>;
  pass: Record<string, boolean>;
}): string {
  const lines = [
    `# TFTP benchmark, ${r.date}`,
    '',
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, Linux ${r.machine.kernel}, Node ${r.machine.node}. Client: ${r.peers.client}; servers: tftpd-hpa (${r.peers['tftpd-hpa']}), atftpd (${r.peers.atftpd}), all on 127.0.0.1.`,
    '',
    `Server CPU measured with: ${Object.entries(r.cpuMethod).map(([k, v]) => `${k}: ${v}`).join('; ')}. Each round runs every server in turn, so load from other work on the machine falls on all of them.`,
    '',
    `polyprov: ${process.env.TFTP_BENCH_SERVICE === 'fake' ? 'the TFTP engine over the tests\' fake boot service (TFTP_BENCH_SERVICE=fake)' : 'the real boot service (tree, policy, audit), as polyprov serve --tftp runs it'}, ${r.polyprovWorkers ?? 0} read worker(s) (tftpWorkers). Load average (1, 5, 15 min) before the concurrent runs: ${r.loadAverage.before}; after: ${r.loadAverage.after}.`,
    '',
    `## One 5 MB transfer (median of ${r.repeats})`,
    '',
    '| server | client options | median ms | MB/s | server CPU ms / transfer | byte-identical |',
    '|---|---|---:|---:|---:|---|',
    ...r.singles.map((s) => `| ${s.server} | ${s.options.join(', ')} | ${s.medianMs} | ${s.mbPerSec} | ${s.cpuMsPerTransfer} | ${s.identical ? 'yes' : 'NO'} |`),
    '',
    `## Concurrent transfers (median of ${r.concurrent[0]?.rounds ?? 0} rounds)`,
    '',
    'The clients and the server share the 2 cores, so these runs are CPU-bound: client CPU is the atftp processes\' CPU per transfer.',
    '',
    '| server | transfers × size | wall ms | MB/s total | server CPU ms / transfer | client CPU ms / transfer | wall ms of each round | failures | byte-identical |',
    '|---|---|---:|---:|---:|---:|---|---:|---|',
    ...r.concurrent.map(
      (c) =>
        `| ${c.server} | ${c.transfers} × ${c.bytesEach / 1024 / 1024} MB (${c.options.join(', ')}) | ${c.wallMs} | ${c.mbPerSec} | ${c.cpuMsPerTransfer} | ${c.clientCpuMsPerTransfer} | ${c.runs.map((x) => Math.round(x.wallMs)).join(', ')} | ${c.failures} | ${c.identical ? 'yes' : 'NO'} |`,
    ),
    '',
    '## Targets (issue 5)',
    '',
    '| target | measured | pass |',
    '|---|---|---|',
    ...Object.entries(r.verdicts)
      .filter(([, v]) => typeof v === 'object')
      .map(([k, v]) => {
        const o = v as { ratio: number; target: string };
        const key = k.startsWith('blksize') ? 'blksize1468' : k.startsWith('window') ? 'windowsize16' : 'concurrent';
        return `| ${k}: ${o.target} | ${o.ratio} | ${r.pass[key] ? 'yes' : 'NO'} |`;
      }),
    `| every copy byte-identical | ${r.pass.identical ? 'all' : 'NOT ALL'} | ${r.pass.identical ? 'yes' : 'NO'} |`,
    '',
  ];
  return lines.join('\n');
}

await main();
