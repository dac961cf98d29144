// Assembles a running boot server from ServerOptions: the core (which opens the store,
// src/core/open-core.ts) and one thin listener per configured transport. Used by `polyprov
// serve`, the tests and the benchmarks. Under `serve --workers N` (src/cluster/) each worker
// process runs this with its WorkerPart: every worker opens the HTTP, HTTPS, FTP and FTPS
// listeners (node:cluster shares them), one worker at a time the TFTP socket and the admin
// listener (at its start, or later through openSolo when the worker holding them died).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { AdminAppOptions } from './api/app.ts';
import type { AdminService } from './core/admin.ts';
import type { CoreBootService } from './core/boot-service.ts';
import { openCore, type OpenedCore } from './core/open-core.ts';
import type { Logger } from './log.ts';
import { parseHostPort, type ServerOptions } from './options.ts';
import { startHttpServer } from './transports/http.ts';
import { tuneHeapGrowth } from './heap-growth.ts';
import { tftpThreads } from './transports/tftp/worker-pool.ts';
import { sessionIdContext, ticketKeysFor, TlsSessionCache, type TlsSessionStore } from './util/tls-session-cache.ts';
import type { WorkerRole } from './util/worker-role.ts';

/** What one worker of `serve --workers N` opens (issue 16, One machine, every core). */
export interface WorkerPart extends WorkerRole {
  /** This worker opens the TFTP socket (one process for UDP: a retransmitted request must meet its transfer). */
  tftp: boolean;
  /** This worker opens the admin listener (it runs once). */
  admin: boolean;
  /** The /metrics text covering every worker; default this process's own. */
  metrics?: () => string;
  /**
   * TLS session ticket keys (48 bytes) the primary drew for every worker, so a phone resumes its
   * HTTPS session whichever worker its next connection reaches (no full handshake per worker).
   */
  ticketKeys?: Buffer;
  /** Where the HTTPS and FTPS listeners keep and find TLS sessions by ID: the primary's one cache (default: this process's). */
  tlsSessions?: TlsSessionStore;
  /** The base of the listeners' TLS sessionIdContext, the same in every worker (default: random per process). */
  sessionIdContext?: string;
}

/** Where TFTP and the admin listener listen (HOST:PORT), when a worker opens them after its start. */
export interface SoloAt {
  tftp?: string;
  admin?: string;
}

export interface Listening {
  transport: string;
  host: string;
  port: number;
}

export interface RunningServer {
  core: CoreBootService;
  /** Administration through the core (issue 12 item 4) as the OS user; `adminAs(token name)` for the REST API to come. */
  admin: OpenedCore['admin'];
  adminAs: OpenedCore['adminAs'];
  /** The store the core opened, for tests that inspect state; the server itself only calls the core. */
  store: OpenedCore['store'];
  listening: Listening[];
  /** What `serve` prints as `warning:` lines at start (listenerWarnings, accountWarnings). */
  warnings: string[];
  /**
   * Opens TFTP and the admin listener at `at` now, in a server started without them: the worker of
   * `serve --workers N` that takes them over when the one holding them died (issue 16, One
   * machine: src/cluster/solo-role.ts). Resolves with the new listeners; on a failure, what this
   * call opened is closed again.
   */
  openSolo(at: SoloAt): Promise<Listening[]>;
  /**
   * Loads TFTP's and the admin listener's code and builds the admin app now, unopened, so that a
   * later openSolo only binds (the standby worker of `serve --workers N`; src/cluster/solo-role.ts).
   */
  prepareSolo(): Promise<void>;
  /** Stops listeners (in-flight transfers get a grace period), flushes the audit, closes the store. */
  close(): Promise<void>;
}

interface Closable {
  close(): Promise<void>;
}

export async function startServer(options: Readonly<ServerOptions>, log: Logger, part?: WorkerPart): Promise<RunningServer> {
  tuneHeapGrowth(options.heapGrowthPercent);
  const opened = await openCore(options, log);
  const { boot: core, store } = opened;
  const closers: Closable[] = [];
  const listening: Listening[] = [];
  const note = (transport: string, a: AddressInfo) => listening.push({ transport, host: a.address, port: a.port });
  const openTftp = async (at: string, into: Closable[]): Promise<AddressInfo> => {
    const { startTftpServer } = await import('./transports/tftp/server.ts');
    const { host, port } = parseHostPort(at, 'tftp');
    // Worker threads send TFTP blocks, from the machine's one thread budget (tftpThreads).
    const workers = tftpThreads(options.tftpWorkers, availableParallelism(), part?.count ?? 1);
    const l = await startTftpServer({ host, port, service: core, options, log, workers });
    into.push(l);
    return l.address();
  };
  // The admin listener with the REST API (issue 15): Fastify, loaded only when asked for.
  const buildAdmin = async () => {
    const { buildAdminApp, readAdminTls } = await import('./api/app.ts');
    const o: AdminAppOptions = {
      admin: opened.admin,
      adminAs: opened.adminAs,
      log,
      root: options.root,
      metrics: part?.metrics ?? (() => core.metrics.render()),
      maxAuthFailures: options.apiAuthFailuresPerMinute,
      ...(options.adminCert && options.adminKey ? { tls: readAdminTls(options.adminCert, options.adminKey) } : {}),
    };
    return buildAdminApp(o);
  };
  /** The admin app prepareSolo built, not yet listening (taken by the next openAdmin). */
  let preparedAdmin: ReturnType<typeof buildAdmin> | undefined;
  const openAdmin = async (at: string, into: Closable[]): Promise<AddressInfo> => {
    const { host, port } = parseHostPort(at, 'admin');
    const prepared = preparedAdmin;
    preparedAdmin = undefined;
    const app = (prepared && (await prepared.catch(() => undefined))) || (await buildAdmin());
    try {
      await app.listen({ host, port });
    } catch (e) {
      await app.close().catch(() => {});
      throw e;
    }
    into.push({ close: () => app.close() });
    return app.server.address() as AddressInfo;
  };
  // TLS session-ID resumption (issue 16, One machine): one store for HTTPS and FTPS, the keys kept apart by kind.
  const tlsSessions = part?.tlsSessions ?? new TlsSessionCache();
  const sidBase = part?.sessionIdContext ?? randomBytes(16).toString('hex');
  try {
    const http = { headerTimeoutMs: options.httpHeaderTimeoutMs, bodyTimeoutMs: options.httpBodyTimeoutMs, keepAliveTimeoutMs: options.httpKeepAliveTimeoutMs };
    if (options.http) {
      const { host, port } = parseHostPort(options.http, 'http');
      const l = await startHttpServer({ host, port, service: core, log, ...http });
      closers.push(l);
      note('http', l.address());
    }
    if (options.https) {
      const { host, port } = parseHostPort(options.https, 'https');
      // loadServerOptions refused https without cert and key.
      const tls = {
        cert: readFileSync(options.cert!),
        key: readFileSync(options.key!),
        ca: options.clientCa ? readFileSync(options.clientCa) : undefined,
        legacy: options.tlsLegacy,
        sessions: tlsSessions,
        sessionIdContext: sessionIdContext(sidBase, 'https'),
      };
      const l = await startHttpServer({ host, port, service: core, log, tls, ...http });
      if (part?.ticketKeys) (l.server as unknown as { setTicketKeys(keys: Buffer): void }).setTicketKeys(part.ticketKeys);
      closers.push(l);
      note('https', l.address());
    }
    if (options.tftp && (part?.tftp ?? true)) note('tftp', await openTftp(options.tftp, closers));
    if (options.ftp || options.ftps) {
      const { startFtpServer } = await import('./transports/ftp/server.ts');
      const tls =
        options.cert && options.key
          ? {
              cert: readFileSync(options.cert),
              key: readFileSync(options.key),
              sessions: tlsSessions,
              sessionIdContext: sessionIdContext(sidBase, 'ftps'),
              ...(part?.ticketKeys ? { ticketKeys: ticketKeysFor(part.ticketKeys, 'ftps') } : {}),
            }
          : undefined;
      for (const [flag, implicitTls] of [[options.ftp, false], [options.ftps, true]] as const) {
        if (!flag) continue;
        const { host, port } = parseHostPort(flag, implicitTls ? 'ftps' : 'ftp');
        const l = await startFtpServer({ host, port, service: core, tls, implicitTls, passivePortMin: options.ftpPassivePortMin, passivePortMax: options.ftpPassivePortMax, log });
        closers.push(l);
        note(implicitTls ? 'ftps' : 'ftp', l.address());
      }
    }
    if (options.admin && (part?.admin ?? true)) note('admin', await openAdmin(options.admin, closers));
  } catch (e) {
    await Promise.allSettled(closers.map((c) => c.close()));
    await opened.close();
    throw e;
  }
  const warnings = [...listenerWarnings(listening), ...(await accountWarnings(options, opened.admin))];
  let closing: Promise<void> | undefined;
  return {
    core,
    admin: opened.admin,
    adminAs: opened.adminAs,
    store,
    listening,
    warnings,
    openSolo: async (at) => {
      if (closing) throw new Error('the server is closing');
      const mine: Closable[] = [];
      const got: Listening[] = [];
      try {
        for (const [transport, where, open] of [['tftp', options.tftp && at.tftp, openTftp], ['admin', options.admin && at.admin, openAdmin]] as const) {
          if (!where) continue;
          const a = await open(where, mine);
          got.push({ transport, host: a.address, port: a.port });
        }
        // close() began meanwhile: it no longer sees these.
        if (closing) throw new Error('the server is closing');
      } catch (e) {
        await Promise.allSettled(mine.map((c) => c.close()));
        throw e;
      }
      closers.push(...mine);
      listening.push(...got);
      return got;
    },
    prepareSolo: async () => {
      if (options.tftp) await import('./transports/tftp/server.ts');
      // Fastify registers the routes at ready(), the most of the time (measured: ready 230–480 ms, then listen 1–30 ms).
      if (options.admin) await (preparedAdmin ??= buildAdmin().then(async (app) => (await app.ready(), app)));
    },
    close: () =>
      (closing ??= (async () => {
        await Promise.allSettled(closers.map((c) => c.close()));
        await opened.close();
      })()),
  };
}

/**
 * What `serve` warns about at start, from the listeners it opened. Administrator's Guide,
 * Supported Provisioning Protocols (table): with Specified Protocol HTTPS "Protocol used by
 * bootROM" is HTTP, so the bootROM of a SoundPoint IP / SoundStation IP (SIP 2.x/3.x) finds no
 * boot server on a server that listens on HTTPS alone: no image update, no boot log.
 */
export function listenerWarnings(listening: readonly Listening[]): string[] {
  const has = (t: string) => listening.some((l) => l.transport === t);
  if (!has('https') || has('http')) return [];
  const https = listening.find((l) => l.transport === 'https')!;
  return [
    `listening on HTTPS only: with Server Type HTTPS a SIP 2.x/3.x bootROM uses HTTP (Administrator's Guide, Supported Provisioning Protocols), ` +
      `so those phones' bootROMs find no boot server here and never update their image or upload their boot log. ` +
      `Add an HTTP listener on port 80 of the same address, e.g. --http ${https.host.includes(':') ? `[${https.host}]` : https.host}:80`,
  ];
}

/**
 * Issue 13 item 19: under policy `accounts` with no account at all and staging off, every phone
 * request is a 401 that nothing explains. One warning, with the exact command that adds an account
 * to this server's state (`--data` as serve was given it).
 */
export async function accountWarnings(options: Readonly<ServerOptions>, admin: AdminService): Promise<string[]> {
  if (options.policy !== 'accounts') return [];
  // Issue 16: started while the store is unavailable, the node says so instead of guessing.
  const some = await Promise.all([admin.accounts.list(), admin.staging.status()]).then(([a, s]) => a.length > 0 || s.on, (err: Error) => err);
  if (some instanceof Error) return [`the store is unavailable (${some.message}): serving tree files, 503 for the rest until it answers`];
  if (some) return [];
  const state = options.storeUrl === 'sqlite' ? ` --data ${shellWord(resolve(options.data))}` : ' (with the same --config as serve)';
  return [
    `policy accounts and no provisioning account: every phone request will be refused (401). ` +
      `Add one: polyprov accounts add site --generate${state} — or let factory phones enrol with: polyprov staging on${options.storeUrl === 'sqlite' ? state : ''}`,
  ];
}

function shellWord(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The address phones should be given: the listener's, or this host's first LAN address for 0.0.0.0. */
export function publicHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The exact DHCP option 66/160 value for a listener (white paper Stage 1; facts §5.1). */
export function bootServerUrl(l: Listening): string {
  const host = publicHost(l.host);
  const scheme = l.transport === 'ftps' ? 'ftps' : l.transport;
  const defaults: Record<string, number> = { http: 80, https: 443, ftp: 21, ftps: 990, tftp: 69 };
  return `${scheme}://${host}${defaults[l.transport] === l.port ? '' : `:${l.port}`}/`;
}

