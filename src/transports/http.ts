// HTTP and HTTPS face of the boot service. It translates the wire and nothing more: GET/HEAD
// become reads (with the HTTP-only parts: conditional requests and byte ranges, RFC 9110
// §13-14), PUT becomes a write, Authorization and client certificates become credentials.
// Everything about who may do what lives in the core.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { errorDef, ProvError } from '../errors.ts';
import type { BootRequest, BootResult, BootService, ByteRange, FileResult } from '../core/request.ts';
import { contentType, continueThenRead, credentialsOf, httpDate, notModified, parseRange, wwwAuthenticate } from './http-headers.ts';
import type { Logger } from '../log.ts';
import { serveTlsSessions, TLS_SESSION_TIMEOUT_S, type TlsSessionStore } from '../util/tls-session-cache.ts';

export interface HttpListenerOptions {
  host: string;
  port: number;
  service: BootService;
  log: Logger;
  /** `sessions`: where TLS sessions are kept by ID (clients that send no ticket resume from it), under `sessionIdContext`. */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; legacy?: boolean; sessions?: TlsSessionStore; sessionIdContext?: string };
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface HttpListener {
  address(): AddressInfo;
  close(): Promise<void>;
  server: Server;
}

/** The transfer's end, told to the core once (a module function: no closure per request). */
function finish(f: FileResult, started: number, status: string, bytes: number, aborted: boolean): void {
  f.done({ bytes, durationMs: performance.now() - started, status, aborted });
}

/** Reads share this signal: nothing aborts a read but the socket closing, seen in sendFile. */
const NEVER = new AbortController().signal;

export async function startHttpServer(o: HttpListenerOptions): Promise<HttpListener> {
  const transport = o.tls ? 'https' : 'http';
  const log = o.log.child({ listener: transport });
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const expectsContinue = new WeakSet<IncomingMessage>();
  const common = {
    maxHeaderSize: 16 * 1024,
    headersTimeout: o.headerTimeoutMs,
    requestTimeout: o.bodyTimeoutMs,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    // Check header/request timeouts every second (default 30 s) so slow-loris clients are cut promptly.
    connectionsCheckingInterval: 1000,
  };
  const server: Server = o.tls
    ? (createHttpsServer(
        {
          ...common,
          cert: o.tls.cert,
          key: o.tls.key,
          ca: o.tls.ca,
          requestCert: o.tls.ca !== undefined,
          rejectUnauthorized: false, // the core decides; an unverified certificate just proves nothing
          sessionTimeout: TLS_SESSION_TIMEOUT_S,
          ...(o.tls.sessionIdContext ? { sessionIdContext: o.tls.sessionIdContext } : {}),
          // Old SoundPoint IP bootROMs speak TLS 1.0 with legacy ciphers; opt in with --tls-legacy.
          ...(o.tls.legacy ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
        },
        handler,
      ) as unknown as Server)
    : createHttpServer(common, handler);
  if (o.tls?.sessions) serveTlsSessions(server, o.tls.sessions, 'https');

  // Expect: 100-continue: answer 100 only once the core starts reading the body, so a refused
  // upload (wrong name, no credentials, too large) is refused before the phone sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    expectsContinue.add(req);
    handler(req, res);
  });

  // Wire-level garbage: a head that never became a request (malformed, too large, or not complete
  // within headerTimeoutMs/bodyTimeoutMs). Counted in the metrics only: there is no request to
  // audit. The socket is destroyed after the short answer, never left half-open waiting for the
  // client's FIN: a client that never closes would otherwise hold its descriptor for as long as
  // it stays (issue 13 item 14; HTTP, FTP, TFTP and SQLite share one ulimit -n).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    o.service.wireGarbage?.(transport);
    if (!socket.writable || socket.bytesWritten > 0 || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    log.warn({ code: 'PP_BAD_REQUEST', err: err.code }, `refused PP_BAD_REQUEST from ${socket.remoteAddress}`);
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    // A client that reads nothing may keep even that short answer from flushing.
    setTimeout(() => socket.destroy(), 1000).unref();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let op: BootRequest['op'];
    if (method === 'GET' || method === 'HEAD') op = 'read';
    else if (method === 'PUT') op = 'write';
    else {
      // A method the boot server does not speak never becomes a request: wire garbage.
      o.service.wireGarbage?.(transport);
      res.writeHead(405, { allow: 'GET, HEAD, PUT', 'content-type': 'text/plain', connection: 'close' }).end('405 method not allowed\n');
      req.resume();
      return;
    }
    let target = req.url ?? '/';
    // An absolute-form target (RFC 9112 §3.2.2) is rare: phones send origin-form ("/…").
    if (target.charCodeAt(0) !== 47) {
      const abs = /^https?:\/\/[^/]*/i.exec(target);
      if (abs) target = target.slice(abs[0].length) || '/';
    }
    const q = target.indexOf('?');
    if (q >= 0) target = target.slice(0, q);
    let path = target;
    // A target that does not percent-decode goes to the core as sent: the core refuses it
    // (PP_PATH_HOSTILE), and audits and counts the refusal like any other.
    if (target.includes('%')) {
      try {
        path = decodeURIComponent(target);
      } catch {
        path = target;
      }
    }
    // Only an upload needs to know that the phone hung up mid-request (the core then discards
    // it); a read learns it in sendFile. Reads share one signal that never fires.
    let signal = NEVER;
    if (op === 'write') {
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort();
      });
      signal = ac.signal;
    }
    const len = req.headers['content-length'];
    const breq: BootRequest = {
      transport,
      remote: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      credentials: credentialsOf(req, method),
      op,
      path,
      userAgent: req.headers['user-agent'],
      size: len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined,
      body: op !== 'write' ? undefined : expectsContinue.has(req) ? continueThenRead(req, res) : req,
      signal,
    };
    let result: BootResult;
    try {
      result = await o.service.handle(breq);
    } catch (err) {
      log.error({ err }, 'boot service failed');
      result = { kind: 'refused', error: new ProvError('PP_INTERNAL', 'internal error') };
    }
    if (res.destroyed) {
      if (result.kind === 'file') result.done({ bytes: 0, durationMs: 0, status: '499', aborted: true });
      return;
    }
    switch (result.kind) {
      case 'refused': {
        const def = errorDef(result.error.code);
        const status = def.http ?? 500;
        const headers: Record<string, string | string[]> = { 'content-type': 'text/plain; charset=utf-8' };
        if (result.challenge) headers['www-authenticate'] = wwwAuthenticate(result.challenge);
        if (def.retryAfterS !== undefined) headers['retry-after'] = String(def.retryAfterS);
        // A refusal says little: the status, the code and a short reason. Details go to the log.
        const reason = status === 403 || status === 413 || status === 400 ? result.error.message : def.summary;
        if (op === 'write' && !req.complete) headers.connection = 'close'; // the unread body is not worth reading
        res.writeHead(status, headers).end(`${status} ${result.error.code} ${reason}\n`);
        if (op === 'write') req.resume();
        return;
      }
      case 'stored':
        res.writeHead(result.created ? 201 : 204, { etag: `"${result.sha256.slice(0, 32)}"` }).end();
        return;
      case 'deleted':
        res.writeHead(204).end();
        return;
      case 'listing':
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('500 PP_INTERNAL internal error\n');
        return;
      case 'file':
        return sendFile(req, res, breq, result, method === 'HEAD');
    }
  }

  function sendFile(req: IncomingMessage, res: ServerResponse, breq: BootRequest, f: FileResult, head: boolean): void {
    const started = performance.now();
    // A flat [name, value, …] list: node:http writes it without walking an object's keys.
    const headers: Array<string | number> = [
      'content-type', contentType(breq.path),
      'etag', f.etag,
      'last-modified', httpDate(f.mtime),
      'accept-ranges', 'bytes',
      'cache-control', 'no-cache',
    ];
    if ((req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined) && notModified(req, f)) {
      res.writeHead(304, headers).end();
      return finish(f, started, '304', 0, false);
    }
    let range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, f.size);
    const ifRange = req.headers['if-range'];
    if (range && typeof ifRange === 'string' && ifRange !== f.etag && Date.parse(ifRange) !== Math.floor(f.mtime.getTime() / 1000) * 1000) range = undefined;
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${f.size}` }).end();
      return finish(f, started, '416', 0, false);
    }
    const status = range ? 206 : 200;
    const length = range ? range.end - range.start + 1 : f.size;
    headers.push('content-length', length);
    if (range) headers.push('content-range', `bytes ${range.start}-${range.end}/${f.size}`);
    res.writeHead(status, headers);
    if (head || length === 0) {
      res.end();
      return finish(f, started, status === 200 ? '200' : '206', 0, false);
    }
    if (f.body) {
      // Already in memory (configuration files, stored uploads): one write, no stream.
      res.end(range ? f.body.subarray(range.start, range.end + 1) : f.body);
      return finish(f, started, status === 200 ? '200' : '206', length, false);
    }
    if (f.chunks) return void sendChunks(res, breq, f, range, status, (st, bytes, aborted) => finish(f, started, st, bytes, aborted));
    const stream = f.open(range);
    let sent = 0;
    let finished = false;
    stream.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (!res.write(chunk)) stream.pause();
    });
    res.on('drain', () => stream.resume());
    stream.on('end', () => {
      finished = true;
      res.end();
      finish(f, started, String(status), sent, false);
    });
    stream.on('error', (err) => {
      log.error({ err: err.message, path: breq.path }, 'read failed while streaming');
      res.destroy();
    });
    // The phone hung up (an unchanged image: header read, then close): release the file now.
    res.on('close', () => {
      if (!finished) {
        stream.destroy();
        finish(f, started, String(status), sent, true);
      }
    });
  }

  /**
   * Streams a large file from the core's reused chunk buffers. Each chunk is written and its
   * flush awaited before the next is asked for (the buffer is then reused), while the core
   * reads the next chunk in the meantime. A phone that hangs up (an unchanged image: header
   * read, then close) ends the loop, which closes the file at once.
   */
  async function sendChunks(
    res: ServerResponse,
    breq: BootRequest,
    f: FileResult,
    range: ByteRange | undefined,
    status: number,
    done: (status: string, bytes: number, aborted: boolean) => void,
  ): Promise<void> {
    let sent = 0;
    let aborted = false;
    // A write's callback is not always called when the phone hangs up with the write pending
    // (the socket is destroyed under it), which left the read loop, its file handle and its chunk
    // buffers waiting forever (the 50-hang-ups test in test/http/reads.test.ts, now and then): the
    // close ends the wait too.
    let wake: ((e: Error) => void) | undefined;
    const onClose = () => {
      if (!res.writableFinished) {
        aborted = true;
        wake?.(new Error('closed'));
      }
    };
    res.on('close', onClose);
    try {
      for await (const chunk of f.chunks!(range)) {
        if (aborted || res.destroyed) break;
        // The callback fires once the bytes are with the kernel, or with an error when the
        // socket is gone; either way the buffer is free again.
        const err = await new Promise<Error | null | undefined>((resolve) => {
          wake = resolve;
          res.write(chunk, resolve);
        });
        wake = undefined;
        if (err) {
          aborted = true;
          break;
        }
        sent += chunk.length;
      }
    } catch (err) {
      log.error({ err: (err as Error).message, path: breq.path }, 'read failed while streaming');
      res.destroy();
      aborted = true;
    }
    res.off('close', onClose);
    if (aborted || res.destroyed) {
      res.destroy();
      return done(String(status), sent, true);
    }
    res.end();
    done(String(status), sent, false);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep backlog: a boot storm opens thousands of connections at once.
    server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a grace period, then go.
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      }),
  };
}
