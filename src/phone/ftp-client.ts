// A minimal passive-mode FTP client (RFC 959; PASV §4.1.2, EPSV RFC 2428). Phones use passive FTP
// only: "Active FTP is not supported for bootROM version 3.0 or later" (SEED-AG, Server Menu). One
// control connection per client, opened lazily and logged in with the Server User/Password; a
// hang-up after an image header closes it, and the next transfer logs in again.
// FTPS (Server Type 4, SEED-AG Server Menu) comes in two modes (server-address.ts, FtpsMode):
// explicit, AUTH TLS on the plain control connection before USER (RFC 4217 §4), and implicit, TLS
// from the first byte. Either way PBSZ 0 and PROT P follow the login (§8–9), and every data
// connection is TLS resuming the control connection's session (§10.2).
import net from 'node:net';
import tls from 'node:tls';
import type { FtpsMode, ServerAddress } from './server-address.ts';
import { errorResult, type FetchResult, type FileClient, type GetOptions, type PutOptions } from './file-client.ts';
import { ControlChannel, fail, ftpError, loginFailure, withTimeout } from './ftp-control.ts';
import { clientSecureContext } from './tls-context.ts';

export interface FtpClientOptions {
  address: string;
  timeoutMs?: number;
  localAddress?: string;
  /** FTPS (Server Type 4): CA certificates to trust, and whether to check the server's certificate (as for https). */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export class FtpFileClient implements FileClient {
  readonly protocol: 'ftp' | 'ftps';
  readonly address: string;
  private control: ControlChannel | undefined;
  private readonly timeoutMs: number;
  private readonly localAddress?: string;
  /** Server Type FTPS: TLS on control and data connections, explicit (AUTH TLS) or implicit. */
  private readonly secure: boolean;
  readonly ftpsMode: FtpsMode | undefined;
  private tlsSession: Buffer | undefined;
  /** Transfers on one control connection are sequential. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly server: ServerAddress,
    private readonly opts: FtpClientOptions,
  ) {
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.localAddress = opts.localAddress;
    this.protocol = server.protocol === 'ftps' ? 'ftps' : 'ftp';
    this.secure = this.protocol === 'ftps';
    // An ftps address parsed without a mode is implicit, as libcurl reads ftps:// (facts §2.4).
    this.ftpsMode = this.secure ? (server.ftpsMode ?? 'implicit') : undefined;
  }

  private tlsOptions(): tls.ConnectionOptions {
    const o = this.opts;
    return {
      ca: o.ca,
      secureContext: clientSecureContext(o.ca),
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      ...(net.isIP(this.server.host) ? {} : { servername: this.server.host }),
      // RFC 4217 §10.2 advises data connections to resume the control connection's session.
      ...(this.tlsSession ? { session: this.tlsSession } : {}),
    };
  }

  /**
   * TLS over an open connection (after 234, or a data connection). The certificate is checked
   * against the server's name or address as given, not Node's "localhost" default for a socket.
   */
  private tlsOver(socket: net.Socket): tls.TLSSocket {
    return tls.connect({ socket, host: this.server.host, ...this.tlsOptions() });
  }

  /** Waits for a socket to connect (plain) or finish its TLS handshake. */
  private connected(sock: net.Socket, event: 'connect' | 'secureConnect', what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        sock.destroy();
        reject(Object.assign(new Error(`${what} timed out after ${this.timeoutMs} ms`), { code: 'timeout' }));
      }, this.timeoutMs);
      sock.once(event, () => {
        clearTimeout(t);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** After 150 on a PROT P session, the data connection becomes TLS (RFC 4217 §9). */
  private async protect(data: net.Socket): Promise<net.Socket> {
    if (!this.secure) return data;
    const t = this.tlsOver(data);
    await this.connected(t, 'secureConnect', 'data TLS handshake');
    return t;
  }

  get(path: string, _opts: GetOptions = {}): Promise<FetchResult> {
    return this.serial(() => this.retrieve(path, undefined));
  }

  headThenHangUp(path: string, bytes: number, _opts: GetOptions = {}): Promise<FetchResult> {
    return this.serial(() => this.retrieve(path, bytes));
  }

  put(path: string, body: Buffer, opts: PutOptions = {}): Promise<FetchResult> {
    return this.serial(() => this.store(path, body, opts.append === true));
  }

  async close(): Promise<void> {
    const c = this.control;
    this.control = undefined;
    if (!c) return;
    try {
      await c.command('QUIT', 1000);
    } catch {
      // the server may already have gone
    }
    c.socket.destroy();
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private hangUp(): void {
    this.control?.socket.destroy();
    this.control = undefined;
  }

  private async login(): Promise<ControlChannel> {
    if (this.control) return this.control;
    const where = { host: this.address, port: this.server.port, ...(this.localAddress ? { localAddress: this.localAddress } : {}) };
    const implicit = this.ftpsMode === 'implicit';
    let socket: net.Socket = implicit ? tls.connect({ ...where, ...this.tlsOptions() }) : net.connect(where);
    socket.setNoDelay(true);
    if (implicit) this.keepSession(socket as tls.TLSSocket);
    await this.connected(socket, implicit ? 'secureConnect' : 'connect', 'control connection');
    let c = new ControlChannel(socket);
    try {
      const hello = await c.read(this.timeoutMs);
      if (hello.code !== 220) throw ftpError(hello);
      if (this.ftpsMode === 'explicit') {
        // RFC 4217 §4: AUTH TLS before USER, so the password never crosses in clear. A server that
        // refuses it does not get the login in clear either (no fallback to plain FTP).
        const auth = await c.command('AUTH TLS', this.timeoutMs);
        if (auth.code !== 234) {
          throw Object.assign(new Error(`explicit FTPS: the server refused AUTH TLS (${auth.text.replace(/\n/g, ' ')}); it offers no explicit FTPS on port ${this.server.port}. Use a server with TLS on its FTP port, or --ftps-mode implicit for an implicit FTPS port`), {
            code: `ftp:auth-tls-refused`,
          });
        }
        const t = this.tlsOver(c.release());
        this.keepSession(t);
        socket = t;
        await this.connected(t, 'secureConnect', 'AUTH TLS handshake');
        c = new ControlChannel(t);
      }
      let r = await c.command(`USER ${this.server.user}`, this.timeoutMs);
      if (r.code === 331) r = await c.command(`PASS ${this.server.password}`, this.timeoutMs);
      if (r.code === 530) throw Object.assign(new Error('login refused'), { code: 'ftp:530', denied: true });
      if (r.code !== 230 && r.code !== 202) throw ftpError(r);
      if (this.secure) {
        // RFC 4217 §8–9: PBSZ 0, then PROT P so data connections are protected too.
        r = await c.command('PBSZ 0', this.timeoutMs);
        if (r.code !== 200) throw ftpError(r);
        r = await c.command('PROT P', this.timeoutMs);
        if (r.code !== 200) throw ftpError(r);
      }
      r = await c.command('TYPE I', this.timeoutMs);
      if (r.code !== 200) throw ftpError(r);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    this.control = c;
    return c;
  }

  /** Keeps the control connection's TLS session (TLS 1.3 tickets arrive after the handshake) for the data connections. */
  private keepSession(t: tls.TLSSocket): void {
    t.on('session', (s: Buffer) => (this.tlsSession = s));
  }

  /** PASV (RFC 959 §4.1.2); the data connection goes to the control peer, whatever address the reply names. */
  private async openData(c: ControlChannel): Promise<net.Socket> {
    const r = await c.command('PASV', this.timeoutMs);
    const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(r.text);
    if (r.code !== 227 || !m) throw ftpError(r);
    const port = Number(m[5]) * 256 + Number(m[6]);
    const data = net.connect({ host: this.address, port, ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
    await this.connected(data, 'connect', 'data connection');
    return data;
  }

  private async retrieve(path: string, headBytes: number | undefined): Promise<FetchResult> {
    let c: ControlChannel;
    try {
      c = await this.login();
    } catch (e) {
      return loginFailure(e);
    }
    try {
      let size: number | undefined;
      const sz = await c.command(`SIZE ${path}`, this.timeoutMs);
      if (sz.code === 213) size = Number(sz.text.slice(4).trim());
      else if (sz.code === 550) return { status: 'not-found', bytes: 0, wire: 'ftp:550' };
      const tcp = await this.openData(c);
      const start = await c.command(`RETR ${path}`, this.timeoutMs);
      if (start.code === 550) {
        tcp.destroy();
        return { status: 'not-found', bytes: 0, wire: 'ftp:550' };
      }
      if (start.code !== 150 && start.code !== 125) {
        tcp.destroy();
        return fail(start);
      }
      // A socket does not flow before a 'data' listener is attached, so nothing is lost meanwhile.
      const data = await this.protect(tcp);
      const chunks: Buffer[] = [];
      let got = 0;
      let hungUp = false;
      const finished = new Promise<void>((resolve, reject) => {
        data.on('data', (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (headBytes !== undefined && got >= headBytes && !hungUp) {
            hungUp = true;
            data.destroy();
            resolve();
          }
        });
        data.on('end', () => resolve());
        data.on('close', () => resolve());
        data.on('error', (e) => (hungUp ? resolve() : reject(e)));
      });
      await withTimeout(finished, this.timeoutMs * 6, 'data transfer');
      if (hungUp) {
        // Real phones hang up; the control connection is dropped too rather than resynchronised with ABOR.
        this.hangUp();
        return { status: 'ok', body: Buffer.concat(chunks).subarray(0, headBytes), bytes: got, wire: 'ftp:hangup', size };
      }
      const end = await c.read(this.timeoutMs);
      if (end.code !== 226 && end.code !== 250) return fail(end);
      return { status: 'ok', body: Buffer.concat(chunks), bytes: got, wire: 'ftp:226', size: size ?? got };
    } catch (e) {
      this.hangUp();
      return errorResult(e);
    }
  }

  private async store(path: string, body: Buffer, append: boolean): Promise<FetchResult> {
    let c: ControlChannel;
    try {
      c = await this.login();
    } catch (e) {
      return loginFailure(e);
    }
    try {
      const tcp = await this.openData(c);
      const start = await c.command(`${append ? 'APPE' : 'STOR'} ${path}`, this.timeoutMs);
      if (start.code !== 150 && start.code !== 125) {
        tcp.destroy();
        return start.code === 550 || start.code === 553 || start.code === 532 ? { status: 'denied', bytes: 0, wire: `ftp:${start.code}` } : fail(start);
      }
      const data = await this.protect(tcp);
      await new Promise<void>((resolve, reject) => {
        data.on('error', reject);
        data.end(body, () => resolve());
      });
      const end = await c.read(this.timeoutMs);
      if (end.code !== 226 && end.code !== 250) return fail(end);
      return { status: 'ok', bytes: body.length, wire: 'ftp:226' };
    } catch (e) {
      this.hangUp();
      return errorResult(e);
    }
  }
}
