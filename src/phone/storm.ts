// Boot storm: N virtual phones booting at once against one boot server, as after a power cut
// or a site-wide reboot. Without --server a tree of N phones is generated (storm-tree.ts) and
// `polyprov serve` is started as a child process (storm-server.ts); the phones then run the same
// boot sequence as `polyprov phone boot` (boot.ts), with the image already in their flash, so
// each one reads the image header and hangs up. This module runs the phones, `concurrency` at a
// time, each with its own connections; storm-report.ts turns their boot records into figures.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bootPhone, type BootRecord } from './boot.ts';
import { clientFactory } from './clients.ts';
import { IMAGE_HEADER_BYTES, identifyImage } from './image-header.ts';
import { parseServerAddress, type FtpsMode, type Protocol } from './server-address.ts';
import { emptyCache, MemoryState } from './state.ts';
import { percentiles, requestKind, type Percentiles, type StormReport, type StormTransport } from './storm-report.ts';
import { procStats, startServer, type StartedServer } from './storm-server.ts';
import { generateStormTree, phoneSourceAddress, stormMac } from './storm-tree.ts';

export { percentiles, stormMarkdown, type Percentiles, type StormReport, type StormTransport } from './storm-report.ts';
export { generateStormTree, phoneSourceAddress, stormMac } from './storm-tree.ts';

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
  /** HTTPS with --server: the port the bootROM stage's HTTP reaches (default as stage-protocol.ts says). */
  bootromHttpPort?: number;
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
    const bootromHttp = server?.httpPort ?? o.bootromHttpPort;
    const proc = pid ? procStats(pid) : undefined;

    const httpAgent = o.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: o.concurrency * 2 }) : undefined;
    // HTTPS: a full TLS handshake per file, as the goal asks.
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
            settings: { tries: 1, retryWaitSec: 0, computeEffective: false, uploadLogs: o.uploadLogs, ...(bootromHttp !== undefined ? { bootromHttpPort: bootromHttp } : {}) },
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
