// The FTP control connection as the phone's client reads it (RFC 959 §4.2): replies off the
// socket, multi-line replies ("123-…" … "123 …") joined, one command and its reply at a time,
// and the socket handed over to TLS after 234 AUTH TLS (RFC 4217 §4). Also the mapping of a
// reply or a failed login to the transfer result the boot sequence records.
import type net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { errorResult, type FetchResult } from './file-client.ts';

export interface Reply {
  code: number;
  text: string;
}

/** Reads FTP replies off a control socket; multi-line replies ("123-…" … "123 …") are joined (RFC 959 §4.2). */
export class ControlChannel {
  private buf = '';
  private readonly replies: Reply[] = [];
  private waiters: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private pending: { code: string; lines: string[] } | undefined;
  private failure: Error | undefined;

  private readonly decoder = new StringDecoder('utf8');
  private readonly onDataBound = (d: Buffer) => this.onData(d);
  private readonly onErrorBound = (e: Error) => this.fail(e);
  private readonly onCloseBound = () => this.fail(Object.assign(new Error('control connection closed'), { code: 'ECONNRESET' }));

  constructor(readonly socket: net.Socket) {
    socket.on('data', this.onDataBound);
    socket.on('error', this.onErrorBound);
    socket.on('close', this.onCloseBound);
  }

  /**
   * Lets go of the socket so TLS can take it over after 234 (RFC 4217 §4). The server sends
   * nothing more in clear, so nothing is buffered; a client that had read further would be
   * facing a server injecting clear-text replies, which is refused.
   */
  release(): net.Socket {
    this.socket.off('data', this.onDataBound);
    this.socket.off('error', this.onErrorBound);
    this.socket.off('close', this.onCloseBound);
    this.socket.pause();
    if (this.buf !== '' || this.replies.length > 0) throw Object.assign(new Error('FTP server sent clear-text data after 234 AUTH TLS'), { code: 'ftp:auth-injection' });
    return this.socket;
  }

  private onData(chunk: Buffer): void {
    this.buf += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      if (this.pending) {
        this.pending.lines.push(line);
        if (line.startsWith(this.pending.code + ' ')) {
          this.push({ code: Number(this.pending.code), text: this.pending.lines.join('\n') });
          this.pending = undefined;
        }
        continue;
      }
      const m = /^(\d{3})([ -])/.exec(line);
      if (!m) continue;
      if (m[2] === '-') this.pending = { code: m[1]!, lines: [line] };
      else this.push({ code: Number(m[1]), text: line });
    }
  }

  private push(r: Reply): void {
    const w = this.waiters.shift();
    if (w) w.resolve(r);
    else this.replies.push(r);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  read(timeoutMs: number): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(Object.assign(new Error(`no FTP reply within ${timeoutMs} ms`), { code: 'timeout' }));
      }, timeoutMs);
      const waiter = {
        resolve: (x: Reply) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async command(line: string, timeoutMs: number): Promise<Reply> {
    this.socket.write(line + '\r\n');
    return this.read(timeoutMs);
  }
}

export function ftpError(r: Reply): Error {
  return Object.assign(new Error(`FTP ${r.text}`), { code: `ftp:${r.code}` });
}

export function fail(r: Reply): FetchResult {
  return { status: r.code === 530 || r.code === 532 ? 'denied' : 'error', bytes: 0, wire: `ftp:${r.code}`, error: r.text };
}

export function loginFailure(e: unknown): FetchResult {
  const err = e as { denied?: boolean };
  if (err.denied) return { status: 'denied', bytes: 0, wire: 'ftp:530', error: 'login refused' };
  return errorResult(e);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(Object.assign(new Error(`${what} took over ${ms} ms`), { code: 'timeout' })), ms);
    }),
  ]);
}
