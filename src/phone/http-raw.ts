// One kept-alive HTTP/1.1 connection of a virtual phone, spoken directly over a socket rather than
// through node:http: the boot storm's load generator (storm.ts) runs thousands of phones in one
// process, and node:http's per-request machinery (ClientRequest, agent bookkeeping, the parser,
// IncomingMessage streams) cost more CPU than the phone's whole boot logic.
//
// What goes on the wire is what HttpFileClient sends through node:http with a keep-alive agent,
// byte for byte (test/phone/http-raw.test.ts compares them): the request line, the headers in the
// order given, then `Connection: keep-alive`; a body in the same write as its headers. Responses:
// Content-Length, chunked, or read-until-close bodies; 1xx answers skipped; the connection is kept
// unless the server says `Connection: close` (or is HTTP/1.0 without keep-alive). Reading an image
// header and hanging up (SEED-AG, BootROM step 6) closes the socket after the first bytes, as
// destroying a node:http request does; the next request opens a new connection.
import net from 'node:net';

/** What HttpFileClient needs from a response; only these headers are kept. */
export interface RawResponse {
  status: number;
  headers: { 'www-authenticate'?: string; 'content-length'?: string };
  body: Buffer;
  bytes: number;
  size?: number;
}

export interface RawConnectionOptions {
  host: string;
  port: number;
  localAddress?: string;
  timeoutMs: number;
}

interface Pending {
  resolve(r: RawResponse): void;
  reject(e: Error): void;
  /** Read this many body bytes of a 2xx answer, then hang up. */
  headBytes?: number;
}

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');

function wireError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export class RawHttpConnection {
  private socket?: net.Socket;
  private pending?: Pending;
  /** Bytes received and not yet consumed. */
  private buf: Buffer | undefined;
  // Response being read.
  private phase: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close' = 'head';
  private status = 0;
  private headers: RawResponse['headers'] = {};
  private keep = true;
  private remaining = 0;
  private chunks: Buffer[] = [];
  private got = 0;
  private received = false;

  constructor(private readonly o: RawConnectionOptions) {}

  /**
   * Sends one request: `head` is the request line and headers without the final `Connection`
   * line and blank line; `body` follows in the same write.
   */
  request(head: string, body: Buffer | undefined, headBytes: number | undefined): Promise<RawResponse> {
    if (this.pending) return Promise.reject(new Error('RawHttpConnection: one request at a time'));
    return new Promise<RawResponse>((resolve, reject) => {
      this.pending = { resolve, reject, headBytes };
      this.phase = 'head';
      this.status = 0;
      this.chunks = [];
      this.got = 0;
      this.buf = undefined;
      this.received = false;
      let s = this.socket;
      if (!s || s.destroyed || s.readableEnded || !s.writable) {
        s = this.connect();
      }
      const text = head + 'Connection: keep-alive\r\n\r\n';
      if (body && body.length > 0) {
        s.cork();
        s.write(text, 'latin1');
        s.write(body);
        s.uncork();
      } else s.write(text, 'latin1');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    // node:http's defaults for a keep-alive agent: Nagle off, TCP keep-alive after 1 s.
    const s = net.connect({ host: this.o.host, port: this.o.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000, ...(this.o.localAddress ? { localAddress: this.o.localAddress } : {}) });
    s.setTimeout(this.o.timeoutMs);
    s.on('data', (d: Buffer) => this.onData(s, d));
    s.on('timeout', () => {
      if (this.pending) this.fail(s, wireError(`no answer within ${this.o.timeoutMs} ms`, 'timeout'));
      else s.destroy();
    });
    s.on('error', (e) => this.fail(s, e));
    s.on('end', () => this.onEnd(s));
    s.on('close', () => this.onEnd(s));
    this.socket = s;
    return s;
  }

  private settle(s: net.Socket, r: RawResponse | Error, keep: boolean): void {
    const p = this.pending;
    this.pending = undefined;
    this.chunks = [];
    this.buf = undefined;
    if (!keep) {
      s.destroy();
      if (this.socket === s) this.socket = undefined;
    }
    if (!p) return;
    if (r instanceof Error) p.reject(r);
    else p.resolve(r);
  }

  private fail(s: net.Socket, e: Error): void {
    if (s !== this.socket) return;
    this.settle(s, e, false);
  }

  private onEnd(s: net.Socket): void {
    if (s !== this.socket) return;
    if (this.pending && this.phase === 'close') {
      this.settle(s, this.response(), false);
      return;
    }
    const e = this.pending
      ? !this.received
        ? wireError('socket hang up', 'ECONNRESET')
        : wireError('connection closed mid-response', 'ECONNRESET')
      : undefined;
    if (e) this.settle(s, e, false);
    else {
      s.destroy();
      this.socket = undefined;
    }
  }

  private response(): RawResponse {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const cl = this.headers['content-length'];
    return { status: this.status, headers: this.headers, body, bytes: this.got, ...(cl !== undefined ? { size: Number(cl) } : {}) };
  }

  /** Body bytes of the answer; true when the phone has hung up (image header read). */
  private bodyBytes(s: net.Socket, c: Buffer): boolean {
    if (c.length === 0) return false;
    const want = this.pending?.headBytes;
    const hangUp = want !== undefined && this.status >= 200 && this.status < 300;
    // Copies (only what a header read keeps), so a body does not hold the socket's read buffer.
    this.chunks.push(Buffer.from(hangUp ? c.subarray(0, Math.max(0, want - this.got)) : c));
    this.got += c.length;
    if (hangUp && this.got >= want) {
      // Enough of the header: hang up rather than read the image.
      this.settle(s, this.response(), false);
      return true;
    }
    return false;
  }

  private onData(s: net.Socket, d: Buffer): void {
    if (s !== this.socket || !this.pending) return;
    const b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = undefined;
    this.received = true;
    let at = 0;
    while (this.pending) {
      switch (this.phase) {
        case 'head': {
          const end = b.indexOf(CRLF2, at);
          if (end < 0) {
            this.buf = b.subarray(at);
            if (this.buf.length > 65536) this.fail(s, wireError('response head too large', 'HPE_HEADER_OVERFLOW'));
            return;
          }
          const ok = this.parseHead(b.toString('latin1', at, end));
          at = end + 4;
          if (!ok) {
            this.fail(s, wireError('malformed HTTP response', 'HPE_INVALID_CONSTANT'));
            return;
          }
          continue;
        }
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.remaining, b.length - at);
          if (this.bodyBytes(s, b.subarray(at, at + n))) return;
          at += n;
          this.remaining -= n;
          if (this.remaining > 0) return;
          if (this.phase === 'length') {
            this.settle(s, this.response(), this.keep);
            return;
          }
          this.phase = 'chunk-crlf';
          continue;
        }
        case 'close':
          this.bodyBytes(s, b.subarray(at));
          return;
        case 'chunk-size':
        case 'trailer': {
          const eol = b.indexOf('\r\n', at, 'latin1');
          if (eol < 0) {
            this.buf = b.subarray(at);
            return;
          }
          const line = b.toString('latin1', at, eol);
          at = eol + 2;
          if (this.phase === 'trailer') {
            if (line === '') {
              this.settle(s, this.response(), this.keep);
              return;
            }
            continue;
          }
          const size = parseInt(line.split(';', 1)[0]!.trim(), 16);
          if (!Number.isFinite(size) || size < 0) {
            this.fail(s, wireError('malformed chunk size', 'HPE_INVALID_CHUNK_SIZE'));
            return;
          }
          if (size === 0) this.phase = 'trailer';
          else {
            this.remaining = size;
            this.phase = 'chunk-data';
          }
          continue;
        }
        case 'chunk-crlf':
          if (b.length - at < 2) {
            this.buf = b.subarray(at);
            return;
          }
          at += 2;
          this.phase = 'chunk-size';
          continue;
      }
    }
  }

  /** Status line and the headers HttpFileClient reads; sets how the body is framed. */
  private parseHead(text: string): boolean {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!m) return false;
    this.status = Number(m[2]);
    const http11 = m[1] === '1';
    let connection = '';
    let chunked = false;
    let length: string | undefined;
    let auth: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) return false;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length ??= value;
      else if (name === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      else if (name === 'connection') connection += `${value},`;
      // node:http joins repeated WWW-Authenticate fields with ", " (IncomingMessage headers).
      else if (name === 'www-authenticate') auth = auth === undefined ? value : `${auth}, ${value}`;
    }
    this.headers = {};
    if (auth !== undefined) this.headers['www-authenticate'] = auth;
    if (length !== undefined) this.headers['content-length'] = length;
    const c = connection.toLowerCase();
    this.keep = http11 ? !/(?:^|,)\s*close\s*,/.test(c) : /(?:^|,)\s*keep-alive\s*,/.test(c);
    if (this.status < 200) {
      // 1xx: an interim answer; the real one follows.
      this.phase = 'head';
      this.status = 0;
    } else if (this.status === 204 || this.status === 304) {
      this.phase = 'length';
      this.remaining = 0;
    } else if (chunked) this.phase = 'chunk-size';
    else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) return false;
      this.phase = 'length';
      this.remaining = n;
    } else {
      this.phase = 'close';
      this.keep = false;
    }
    return true;
  }
}
