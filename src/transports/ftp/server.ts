// The FTP listener. Plain FTP with explicit FTPS (RFC 4217 AUTH TLS) on the same port when a
// certificate is configured; with `implicitTls` the whole listener speaks TLS from the first byte
// (the legacy "ftps" port 990 style, which FTPS-configured phones may use). Bounds: total
// sessions, sessions per address, control idle time, passive wait and data idle time.
import net from 'node:net';
import type { BootService } from '../../core/request.ts';
import { FtpSession, type FtpLogger, type SessionConfig } from './control.ts';
import { plainAddress } from '../../util/address.ts';
import { makeTlsSetup, type FtpTlsOptions } from './tls-sessions.ts';

export interface FtpServerOptions {
  host: string;
  /** 0 picks a free port; read it back with address(). */
  port: number;
  service: BootService;
  /** PEM certificate chain and key; enables AUTH TLS (and is required for implicitTls). */
  tls?: FtpTlsOptions;
  implicitTls?: boolean;
  passivePortMin?: number;
  passivePortMax?: number;
  maxSessions?: number;
  maxSessionsPerAddress?: number;
  idleTimeoutMs?: number;
  passiveTimeoutMs?: number;
  dataIdleTimeoutMs?: number;
  log?: FtpLogger;
}

export interface FtpServer {
  address(): net.AddressInfo;
  /** Stops listening and ends every session (421), destroying stragglers after a short grace. */
  close(): Promise<void>;
  /** Open control connections (for metrics and tests). */
  sessionCount(): number;
}

const DEFAULTS = {
  maxSessions: 500,
  // Phones of a branch office may all come from one NAT address; the core's rate limit is the finer bound.
  maxSessionsPerAddress: 64,
  // vsftpd's idle_session_timeout is 300 s; phones fetch a handful of files and quit.
  idleTimeoutMs: 300_000,
  passiveTimeoutMs: 30_000,
  dataIdleTimeoutMs: 60_000,
  // vsftpd reads commands into a 4096-byte buffer (VSFTP_MAX_COMMAND_LINE); paths phones use are ≤ 255.
  maxLineBytes: 4096,
  maxQueuedCommands: 32,
  maxLoginFailures: 3,
};

const SILENT: FtpLogger = { debug() {}, info() {}, warn() {} };

export async function startFtpServer(opts: FtpServerOptions): Promise<FtpServer> {
  // The options were checked once (src/options.ts: implicit FTPS needs a certificate, the passive
  // range is both ends or neither). 0, the default, means "any port", like leaving the range out.
  const pmin = opts.passivePortMin || undefined;
  const pmax = opts.passivePortMax || undefined;
  const log = opts.log ?? SILENT;
  // One context and session cache for the control and every data connection, so sessions resume across them.
  const tls = opts.tls ? makeTlsSetup(opts.tls) : undefined;
  const cfg: SessionConfig = {
    service: opts.service,
    tls,
    implicitTls: opts.implicitTls ?? false,
    passivePortMin: pmin,
    passivePortMax: pmax,
    idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    passiveTimeoutMs: opts.passiveTimeoutMs ?? DEFAULTS.passiveTimeoutMs,
    dataIdleTimeoutMs: opts.dataIdleTimeoutMs ?? DEFAULTS.dataIdleTimeoutMs,
    maxLineBytes: DEFAULTS.maxLineBytes,
    maxQueuedCommands: DEFAULTS.maxQueuedCommands,
    maxLoginFailures: DEFAULTS.maxLoginFailures,
    log,
  };
  const maxSessions = opts.maxSessions ?? DEFAULTS.maxSessions;
  const maxPerAddress = opts.maxSessionsPerAddress ?? DEFAULTS.maxSessionsPerAddress;
  const sessions = new Set<FtpSession>();
  const perAddress = new Map<string, number>();

  const server = net.createServer((sock) => {
    const addr = plainAddress(sock.remoteAddress);
    const n = perAddress.get(addr) ?? 0;
    if (sessions.size >= maxSessions || n >= maxPerAddress) {
      // RFC 959 §4.2: 421 "Service not available, closing control connection". Sent in clear
      // even on the implicit port: the client learns nothing, and the socket is closed anyway.
      log.warn({ remote: addr, sessions: sessions.size }, `ftp refused session ${addr}: too many sessions`);
      sock.on('error', () => {});
      if (!cfg.implicitTls) sock.end('421 Too many connections; try again later.\r\n');
      else sock.destroy();
      return;
    }
    perAddress.set(addr, n + 1);
    const session = new FtpSession(sock, cfg, (s) => {
      sessions.delete(s);
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) perAddress.delete(addr);
      else perAddress.set(addr, left);
    });
    sessions.add(session);
    session.start();
  });
  server.maxConnections = maxSessions + 16; // room for the polite 421 above

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  log.info({ host: address.address, port: address.port, tls: Boolean(tls), implicit: cfg.implicitTls }, 'ftp listening');
  server.on('error', (e) => log.warn({ err: e.message }, 'ftp listener error'));

  return {
    address: () => address,
    sessionCount: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) {
          s.reply(421, 'Server shutting down.');
          s.close();
        }
      }),
  };
}
