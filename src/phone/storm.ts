// Boot storm: N virtual phones booting at once against one boot server, as after a power cut
// or a site-wide reboot. Without --server a tree of N phones is generated (a per-phone file with
// a line password each, a site file, an image) and `polyprov serve` is started as a child
// process; the phones then run the same boot sequence as `polyprov phone boot` (boot.ts), with
// the image already in their flash, so each one reads the image header and hangs up.
// Measures: per-request and per-boot latency percentiles, total time, errors by kind, and the
// server's CPU seconds (/proc/<pid>/stat utime+stime) and peak RSS (/proc/<pid>/status VmHWM).
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Mac } from '../config/types.ts';
import { bootPhone, type BootRecord } from './boot.ts';
import { clientFactory } from './clients.ts';
import { IMAGE_HEADER_BYTES, identifyImage, makeImage } from './image-header.ts';
import { parseServerAddress, type FtpsMode, type Protocol } from './server-address.ts';
import { emptyCache, MemoryState } from './state.ts';

export type StormTransport = 'http' | 'https' | 'tftp' | 'ftp' | 'ftps';

export interface StormOptions {
  phones: number;
  concurrency: number;
  transport: StormTransport;
  /**
   * FTPS only: 'implicit' (TLS from the first byte, `polyprov serve --ftps`) or 'explicit' (AUTH
   * TLS on the FTP port, RFC 4217; `polyprov serve --ftp` with a certificate). Default implicit.
   */
  ftpsMode?: FtpsMode;
  /** A running server's URL; absent: generate a tree and start `polyprov serve`. */
  server?: string;
  /** The running server's pid, for CPU and RSS figures when --server is given. */
  serverPid?: number;
  imageSizeMb: number;
  /** 'full': bootROM then application; 'application': the application stage only (a restart). */
  stages: 'full' | 'application';
  uploadLogs: boolean;
  model: string;
  /** Keep HTTP connections between requests (HTTPS never does: a full handshake per file). */
  keepAlive: boolean;
  timeoutMs: number;
  /** Give each phone its own loopback source address (127.x.y.z), as a real fleet has one address per phone. */
  ownAddresses?: boolean;
  /**
   * Plain HTTP with keep-alive and own addresses: 'raw' (default) speaks each phone's one kept-alive
   * connection directly (http-raw.ts, the same bytes, a fraction of node:http's CPU); 'node' uses
   * a node:http keep-alive agent per phone.
   */
  httpClient?: 'raw' | 'node';
  onProgress?: (done: number, total: number, errors: number) => void;
  log?: (msg: string) => void;
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StormReport {
  when: string;
  transport: StormTransport;
  /** FTPS only. */
  ftpsMode?: FtpsMode;
  /** HTTP with a connection per phone: the raw client or node:http (StormOptions.httpClient). */
  httpClient?: 'raw' | 'node';
  phones: number;
  concurrency: number;
  stages: 'full' | 'application';
  imageSizeMb: number;
  uploadLogs: boolean;
  ownAddresses: boolean;
  server: string;
  serverStartedByBench: boolean;
  /** loadAvg1: the host's 1-minute load average when the storm started and ended (other work on a shared machine shows there). */
  host: { cpus: number; node: string; loadAvg1?: [number, number] };
  totalSeconds: number;
  bootsPerSecond: number;
  requestsPerSecond: number;
  requests: Percentiles;
  requestsByKind: Record<string, Percentiles>;
  boots: Percentiles;
  statusCounts: Record<string, number>;
  errors: Record<string, number>;
  /** The first message seen for each error kind. */
  errorSamples: Record<string, string>;
  failedBoots: number;
  imageDecisions: Record<string, number>;
  serverCpuSeconds?: number;
  serverPeakRssMb?: number;
  clientCpuSeconds: number;
  clientPeakRssMb: number;
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const at = (q: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of a) sum += v;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { count: n, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(a[n - 1]!), mean: r(sum / n) };
}

/** 127.1.0.1, 127.1.0.2, … : every 127/8 address reaches the loopback interface on Linux. */
export function phoneSourceAddress(i: number): string {
  const n = i + 1;
  return `127.${1 + ((n >> 16) & 0x7f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

export function stormMac(i: number): Mac {
  return `0004f2${(0x100000 + i).toString(16).padStart(6, '0').slice(-6)}` as Mac;
}

/** Writes a provisioning tree for `n` phones (written from the white paper's Master Configuration File section). */
export async function generateStormTree(root: string, n: number, imageSizeMb: number, appVersion = '4.0.15.1009'): Promise<void> {
  await mkdir(join(root, 'logs'), { recursive: true });
  await mkdir(join(root, 'overrides'), { recursive: true });
  await mkdir(join(root, 'contacts'), { recursive: true });
  await writeFile(
    join(root, '000000000000.cfg'),
    '<?xml version="1.0" standalone="yes"?>\n<!-- boot-storm tree: white paper, Master Configuration File -->\n' +
      '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg" MISC_FILES="" ' +
      'LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>\n',
  );
  await writeFile(
    join(root, 'site.cfg'),
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <voIpProt voIpProt.server.1.address="pbx.example.com" voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>\n' +
      '  <tcpIpApp tcpIpApp.sntp.address="pool.ntp.org"/>\n  <prov prov.polling.enabled="0"/>\n</polycomConfig>\n',
  );
  await writeFile(join(root, 'sip.ld'), makeImage(appVersion, Math.round(imageSizeMb * 1024 * 1024)));
  // Per-phone files carry a line password each (the kind of file the server must guard).
  const batch: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const mac = stormMac(i);
    const ext = 1000 + i;
    batch.push(
      writeFile(
        join(root, `${mac}-user.cfg`),
        `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<polycomConfig>\n  <reg reg.1.address="${ext}" reg.1.label="${ext}" reg.1.auth.userId="${ext}" reg.1.auth.password="pw-${mac.slice(-6)}-${(i * 7919) % 100000}"/>\n</polycomConfig>\n`,
      ),
    );
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

interface Proc {
  cpuSeconds(): number | undefined;
  peakRssMb(): number | undefined;
}

function procStats(pid: number): Proc {
  const tick = 100; // getconf CLK_TCK on Linux
  return {
    cpuSeconds: () => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields 14 (utime) and 15 (stime), counted from 1; f[0] is field 3
        return (Number(f[11]) + Number(f[12])) / tick;
      } catch {
        return undefined;
      }
    },
    peakRssMb: () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

const BIN = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));

interface StartedServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `polyprov serve` for the generated tree, with rate limits lifted (all phones share 127.0.0.1). */
async function startServer(dir: string, root: string, transport: StormTransport, ftpsMode: FtpsMode, log: (m: string) => void): Promise<StartedServer> {
  const data = join(dir, 'data');
  const config = join(dir, 'polyprov.json');
  await writeFile(config, JSON.stringify({ rateLimitPerSec: 1e6, rateLimitBurst: 1e6, logLevel: 'error', tftpMaxSessions: 100000 }, null, 2));
  // Explicit FTPS is the FTP listener with a certificate (AUTH TLS); implicit has its own.
  const listener = transport === 'ftps' && ftpsMode === 'explicit' ? 'ftp' : transport;
  const args = [BIN, 'serve', '--config', config, '--root', root, '--data', data, '--policy', 'open', `--${listener}`, '127.0.0.1:0'];
  if (transport === 'https' || transport === 'ftps') {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    args.push('--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'));
  }
  if (transport === 'ftp' || transport === 'ftps') {
    // FTP always logs in; a site account stands in for the factory PlcmSpIp one.
    execFileSync(process.execPath, [BIN, 'accounts', 'add', '--kind', 'site', '--password-stdin', '--data', data, 'stormsite'], { input: 'Storm-Pass-1\n', stdio: ['pipe', 'ignore', 'inherit'] });
  }
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  };
  const end = Date.now() + 30_000;
  for (;;) {
    const m = new RegExp(`^\\s*${listener}\\s+listening on [^\\s]*:(\\d+)`, 'm').exec(out);
    if (m) {
      const creds = transport === 'ftp' || transport === 'ftps' ? 'stormsite:Storm-Pass-1@' : '';
      log(`polyprov serve pid ${child.pid} on ${transport} port ${m[1]}`);
      return { url: `${transport}://${creds}127.0.0.1:${m[1]}/`, pid: child.pid!, stop };
    }
    if (child.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`polyprov serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Classifies a request for the per-kind percentiles. */
function requestKind(r: BootRecord['requests'][number]): string {
  if (r.hangUp) return 'image-header';
  if (r.method === 'PUT') return 'upload';
  if (r.status === 'not-found') return 'get-404';
  return 'get';
}

export async function runStorm(o: StormOptions): Promise<StormReport> {
  const log = o.log ?? (() => undefined);
  const ftpsMode: FtpsMode = o.ftpsMode ?? 'implicit';
  let dir: string | undefined;
  let server: StartedServer | undefined;
  let url = o.server;
  try {
    if (!url) {
      dir = await mkdtemp(join(tmpdir(), 'polyprov-storm-'));
      const root = join(dir, 'root');
      log(`generating a tree of ${o.phones} phones and a ${o.imageSizeMb} MB image in ${root}`);
      await generateStormTree(root, o.phones, o.imageSizeMb);
      server = await startServer(dir, root, o.transport, ftpsMode, log);
      url = server.url;
    }
    const address = parseServerAddress(url, { serverType: o.transport as Protocol, ...(o.transport === 'ftps' ? { ftpsMode } : {}) });
    const pid = server?.pid ?? o.serverPid;
    const proc = pid ? procStats(pid) : undefined;

    const httpAgent = o.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: o.concurrency * 2 }) : undefined;
    // HTTPS: a full TLS handshake per file, as the issue's goal asks.
    const httpsAgent = new https.Agent({ keepAlive: false, maxCachedSessions: 0, rejectUnauthorized: false });
    const settings = { timeoutMs: o.timeoutMs, httpAgent, httpsAgent, rejectUnauthorized: false, tftpTimeoutMs: 1000, tftpRetries: 5 };
    const makeClient = clientFactory(settings);
    // Per-address limits on the server (rate limiter, FTP sessions per address) are meant for one
    // phone each; on loopback every phone can have its own source address.
    const ownAddresses = (o.ownAddresses ?? true) && /^127\./.test(address.host);
    const rawHttp = (o.httpClient ?? 'raw') === 'raw';

    // Every phone already holds the server's image: read its identity once.
    const probe = makeClient(address, address.host);
    const head = await probe.headThenHangUp(address.directory + 'sip.ld', IMAGE_HEADER_BYTES);
    await probe.close();
    const imageId = head.status === 'ok' && head.body ? identifyImage(head.body) : undefined;
    if (!imageId) log(`could not read the image header (${head.wire}); phones will download the image`);

    const reqMs: number[] = [];
    const byKind = new Map<string, number[]>();
    const bootMs: number[] = [];
    const statusCounts: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const errorSamples: Record<string, string> = {};
    const imageDecisions: Record<string, number> = {};
    let failedBoots = 0;
    let done = 0;
    let next = 0;

    const load0 = loadavg()[0]!;
    const cpu0 = proc?.cpuSeconds();
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= o.phones) return;
        const cache = emptyCache();
        if (imageId) cache.image = { file: 'sip.ld', id: imageId.id, version: imageId.version };
        cache.appVersion = imageId?.version;
        // A phone of its own address keeps its own connections, closed when its boot is over.
        const ownHttp = ownAddresses && o.keepAlive && o.transport === 'http';
        const phoneAgent = ownHttp && !rawHttp ? new http.Agent({ keepAlive: true, maxSockets: 2 }) : undefined;
        const phoneClients = ownAddresses ? { factory: clientFactory({ ...settings, ...(phoneAgent ? { httpAgent: phoneAgent } : {}), rawHttp: ownHttp && rawHttp, localAddress: phoneSourceAddress(i) }) } : undefined;
        const t = performance.now();
        let rec: BootRecord | undefined;
        try {
          rec = await bootPhone({
            server: address,
            profile: { mac: stormMac(i), model: o.model, bootromVersion: '5.0.0.0001', appVersion: imageId?.version ?? '4.0.0.0000' },
            state: new MemoryState(cache),
            kind: o.stages === 'full' ? 'reboot' : 'restart',
            settings: { tries: 1, retryWaitSec: 0, computeEffective: false, uploadLogs: o.uploadLogs },
            env: { makeClient: phoneClients ? phoneClients.factory : makeClient },
          });
        } catch (e) {
          errors[`exception:${(e as Error).message.slice(0, 60)}`] = (errors[`exception:${(e as Error).message.slice(0, 60)}`] ?? 0) + 1;
        }
        bootMs.push(performance.now() - t);
        phoneAgent?.destroy();
        let failed = !rec;
        if (rec) {
          for (const r of rec.requests) {
            reqMs.push(r.ms);
            const k = requestKind(r);
            let arr = byKind.get(k);
            if (!arr) byKind.set(k, (arr = []));
            arr.push(r.ms);
            statusCounts[r.wire] = (statusCounts[r.wire] ?? 0) + 1;
            if (r.status === 'error' || r.status === 'denied') {
              const key = `${r.status}:${r.wire}`;
              errors[key] = (errors[key] ?? 0) + 1;
              errorSamples[key] ??= `${r.method} ${r.url.replace(/\/\/[^/@]*@/, '//')}: ${r.error ?? r.wire}`;
              failed = true;
            }
          }
          imageDecisions[rec.image.action] = (imageDecisions[rec.image.action] ?? 0) + 1;
          if (!rec.contacted || rec.configFrom !== 'server') failed = true;
        }
        if (failed) failedBoots++;
        done++;
        o.onProgress?.(done, o.phones, failedBoots);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, o.phones)) }, worker));
    const total = (performance.now() - t0) / 1000;
    const cpu1 = proc?.cpuSeconds();
    const clientCpu = process.cpuUsage(clientCpu0);
    httpAgent?.destroy();
    httpsAgent.destroy();

    const kinds: Record<string, Percentiles> = {};
    for (const [k, v] of [...byKind].sort()) kinds[k] = percentiles(v);
    return {
      when: new Date().toISOString(),
      transport: o.transport,
      ...(o.transport === 'ftps' ? { ftpsMode } : {}),
      ...(o.transport === 'http' && ownAddresses && o.keepAlive ? { httpClient: rawHttp ? 'raw' : 'node' } : {}),
      phones: o.phones,
      concurrency: o.concurrency,
      stages: o.stages,
      imageSizeMb: o.imageSizeMb,
      uploadLogs: o.uploadLogs,
      ownAddresses,
      server: server ? 'polyprov serve (child process, generated tree)' : url.replace(/\/\/[^/@]*@/, '//'),
      serverStartedByBench: server !== undefined,
      host: { cpus: cpus().length, node: process.version, loadAvg1: [Math.round(load0 * 100) / 100, Math.round(loadavg()[0]! * 100) / 100] },
      totalSeconds: Math.round(total * 100) / 100,
      bootsPerSecond: Math.round((o.phones / total) * 10) / 10,
      requestsPerSecond: Math.round((reqMs.length / total) * 10) / 10,
      requests: percentiles(reqMs),
      requestsByKind: kinds,
      boots: percentiles(bootMs),
      statusCounts,
      errors,
      errorSamples,
      failedBoots,
      imageDecisions,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { serverCpuSeconds: Math.round((cpu1 - cpu0) * 100) / 100 } : {}),
      ...(proc?.peakRssMb() !== undefined ? { serverPeakRssMb: proc.peakRssMb() } : {}),
      clientCpuSeconds: Math.round(((clientCpu.user + clientCpu.system) / 1e6) * 100) / 100,
      clientPeakRssMb: procStats(process.pid).peakRssMb() ?? 0,
    };
  } finally {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

export function stormMarkdown(r: StormReport): string {
  const row = (name: string, p: Percentiles) => `| ${name} | ${p.count} | ${p.p50} | ${p.p95} | ${p.p99} | ${p.max} |`;
  const lines = [
    `# Boot storm: ${r.phones} phones over ${r.transport.toUpperCase()}${r.ftpsMode ? ` (${r.ftpsMode})` : ''}`,
    '',
    `${r.when} · ${r.host.cpus} CPUs · Node ${r.host.node}${r.host.loadAvg1 ? ` · load average (1 min) ${r.host.loadAvg1[0]} at start, ${r.host.loadAvg1[1]} at end` : ''} · server: ${r.server} · concurrency ${r.concurrency} · stages: ${r.stages} · image ${r.imageSizeMb} MB (unchanged: header read, then hang-up) · log uploads ${r.uploadLogs ? 'on' : 'off'}${r.ownAddresses ? ' · one loopback source address per phone' : ''}${r.httpClient ? ` · phone HTTP client: ${r.httpClient === 'raw' ? 'raw kept-alive connection (http-raw.ts)' : 'node:http keep-alive agent'}` : ''}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| total time | ${r.totalSeconds} s |`,
    `| boots per second | ${r.bootsPerSecond} |`,
    `| requests per second | ${r.requestsPerSecond} |`,
    `| failed boots | ${r.failedBoots} |`,
    `| errors | ${Object.keys(r.errors).length ? Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none'} |`,
    ...Object.entries(r.errorSamples).map(([k, v]) => `| first ${k} | ${v.replace(/\|/g, '\\|')} |`),
    `| server CPU | ${r.serverCpuSeconds ?? 'n/a'} s |`,
    `| server peak RSS (VmHWM) | ${r.serverPeakRssMb ?? 'n/a'} MB |`,
    `| load generator CPU / peak RSS | ${r.clientCpuSeconds} s / ${r.clientPeakRssMb} MB |`,
    `| image decisions | ${Object.entries(r.imageDecisions).map(([k, v]) => `${k}: ${v}`).join(', ')} |`,
    '',
    '| latency (ms) | count | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|---|',
    row('per boot', r.boots),
    row('per request', r.requests),
    ...Object.entries(r.requestsByKind).map(([k, p]) => row(`request: ${k}`, p)),
    '',
  ];
  return lines.join('\n');
}
