// Shared set-up for the FTP integration tests: a temp provisioning tree, the FTP server over the
// real boot service (test/support/boot-core.ts: the whole core over the in-memory store; accounts
// policy, staging on, one phone bound to its own account) on 127.0.0.1 port 0, a throw-away
// certificate, real clients as child processes with timeouts, and a raw control-connection
// client for the wire-level tests. Uploads land in the store; read them with `f.stored(path)`.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { startFtpServer, type FtpServer, type FtpServerOptions } from '../../src/transports/ftp/server.ts';
import type { FtpLogger } from '../../src/transports/ftp/control.ts';
import type { AuditEvent, Mac } from '../../src/domain.ts';
import { uploadKindOf } from '../../src/config/phone-layout.ts';
import { makeAccount } from '../../src/core/digest.ts';
import type { ServerOptions } from '../../src/options.ts';
import { startBootCore, type BootCore, type ObservedCore } from '../support/boot-core.ts';
import { tempDir } from '../support/tree.ts';
import { makeCertificate } from '../support/certs.ts';

/** A phone bound to its own account (Admin Guide, Boot Server Security Policy: one account per phone). */
export const PHONE = '0004f2000001';
export const PHONE_USER = `phone-${PHONE}`;
export const PHONE_PASSWORD = 'k7-per-phone-secret';
/** A factory-fresh phone with no account of its own: it logs in as PlcmSpIp while staging is on. */
export const FACTORY_PHONE = '0004f2000009';
export const REALM = 'polyprov';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Fixture {
  root: string;
  /** The real core, observed: `requests` the adapter made, `finished` transfers it reported. */
  service: ObservedCore;
  boot: BootCore;
  server: FtpServer;
  port: number;
  cert?: { cert: string; key: string; dir: string };
  logs: Array<{ level: string; msg?: string; obj: Record<string, unknown> }>;
  /** The stored upload at a root-relative path (`logs/0004f2000001-app.log`), or undefined. */
  stored(path: string): Promise<Buffer | undefined>;
  /** The core's audit records of a root-relative path, newest first (the audit is flushed first). */
  audited(path: string): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

/** Builds a small provisioning tree (white paper, Master Configuration File: master, configs, log dir). */
export async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'logs'), { recursive: true });
  await mkdir(join(root, 'overrides'), { recursive: true });
  await writeFile(
    join(root, '000000000000.cfg'),
    '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="sip.cfg" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides"/>\n',
  );
  await writeFile(join(root, 'sip.cfg'), '<?xml version="1.0"?>\n<sip><voIpProt voIpProt.server.1.address="pbx.example"/></sip>\n');
}

export async function makeCert(dir: string): Promise<{ cert: string; key: string; dir: string }> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const made = makeCertificate({ cn: 'localhost', days: 1 }); // made in Node: no openssl needed (issue 13 item 1)
  await writeFile(certPath, made.cert);
  await writeFile(keyPath, made.key);
  return { cert: made.cert, key: made.key, dir };
}

export async function startFixture(
  o: { tls?: boolean; implicitTls?: boolean; core?: Partial<ServerOptions>; server?: Partial<FtpServerOptions> } = {},
): Promise<Fixture> {
  const root = tempDir('polyprov-ftp-');
  await makeTree(root);
  // Logs are rolling (logCapBytes) and size-capped: raised so the 20 MB upload test keeps it whole.
  const boot = await startBootCore({ policy: 'accounts', realm: REALM, staging: true, uploadMaxBytesLog: 64 << 20, logCapBytes: 64 << 20, ...o.core }, root);
  await boot.store.accounts.put(makeAccount('phone', PHONE_USER, PHONE_PASSWORD, REALM, PHONE as Mac));
  const service = boot.service;
  const cert = o.tls || o.implicitTls ? await makeCert(tempDir('polyprov-cert-')) : undefined;
  const logs: Fixture['logs'] = [];
  const at = (level: string) => (obj: object, msg?: string) => logs.push({ level, msg, obj: obj as Record<string, unknown> });
  const log: FtpLogger = { debug: at('debug'), info: at('info'), warn: at('warn') };
  const server = await startFtpServer({
    host: '127.0.0.1',
    port: 0,
    service,
    tls: cert ? { cert: cert.cert, key: cert.key } : undefined,
    implicitTls: o.implicitTls,
    log,
    ...o.server,
  });
  return {
    root,
    service,
    boot,
    server,
    port: server.address().port,
    cert,
    logs,
    async stored(path: string) {
      const up = uploadKindOf(path.slice(path.lastIndexOf('/') + 1));
      if (!up) throw new Error(`${path} is not an upload name`);
      return boot.stored({ mac: up.mac, kind: up.kind, path });
    },
    async audited(path: string) {
      await boot.core.audit.flush();
      return (await boot.store.audit.query({ limit: 10_000 })).filter((e) => e.path === path);
    },
    async close() {
      await server.close();
      await boot.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a real client with a hard timeout; never throws for a non-zero exit (tests check `code`). */
export function run(cmd: string, args: string[], opts: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { encoding: 'buffer', timeout: opts.timeoutMs ?? 20_000, maxBuffer: 128 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err); // ENOENT etc.
        if (err?.killed) return reject(new Error(`${cmd} timed out: ${stderr.toString()}`));
        const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    child.stdin!.on('error', () => {}); // the client may exit before reading its input (a refused upload)
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** A raw control connection: send lines, read replies (complete multi-line replies, RFC 959 §4.2). */
export class RawClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static connect(port: number, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(line: string | Buffer): void {
    this.sock.write(typeof line === 'string' ? `${line}\r\n` : line);
  }

  /** Next complete reply; rejects after `timeoutMs` or when the server closes first. */
  async reply(timeoutMs = 5000): Promise<{ code: number; text: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.closed) throw new Error(`connection closed; pending ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; pending ${JSON.stringify(this.buf)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  async cmd(line: string): Promise<{ code: number; text: string }> {
    this.send(line);
    return this.reply();
  }

  private take(): { code: number; text: string } | undefined {
    const lines = this.buf.split('\r\n');
    if (lines.length < 2) return undefined;
    const first = /^(\d{3})([ -])/.exec(lines[0]!);
    if (!first) throw new Error(`bad reply line ${JSON.stringify(lines[0])}`);
    let end = 0;
    if (first[2] === '-') {
      end = lines.findIndex((l, i) => i > 0 && l.startsWith(`${first[1]} `));
      if (end === -1 || end === lines.length - 1) return undefined;
    }
    const text = lines.slice(0, end + 1).join('\n');
    this.buf = lines.slice(end + 1).join('\r\n');
    return { code: Number(first[1]), text };
  }

  async login(user = 'PlcmSpIp', password = 'PlcmSpIp'): Promise<void> {
    const u = await this.cmd(`USER ${user}`);
    if (u.code !== 331) throw new Error(`USER: ${u.text}`);
    const p = await this.cmd(`PASS ${password}`);
    if (p.code !== 230) throw new Error(`PASS: ${p.text}`);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Port from a 229 EPSV reply (RFC 2428 §3). */
export function epsvPort(text: string): number {
  const m = /\(\|\|\|(\d+)\|\)/.exec(text);
  if (!m) throw new Error(`not an EPSV reply: ${text}`);
  return Number(m[1]);
}

/** Port from a 227 PASV reply (RFC 959 §4.1.2). */
export function pasvPort(text: string): number {
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(text);
  if (!m) throw new Error(`not a PASV reply: ${text}`);
  return Number(m[5]) * 256 + Number(m[6]);
}

/** Reads a data connection to its end. */
export function readAll(sock: net.Socket, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const t = setTimeout(() => reject(new Error('data connection read timed out')), timeoutMs);
    sock.on('data', (c: Buffer) => parts.push(c));
    sock.on('end', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts));
    });
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

export function connectData(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}
