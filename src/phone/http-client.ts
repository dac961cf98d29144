// HTTP(S) fetcher of the virtual phone. GET for downloads, PUT of the raw body for uploads (facts
// §3.3: production servers take the phone's uploads as PUT of the raw request body). A 401 is
// answered once with the strongest scheme offered (digest-client.ts); the Digest challenge is
// then reused with a growing nonce count, as libcurl (the UCS transfer client, facts §2.4) does.
import http from 'node:http';
import https from 'node:https';
import type { ServerAddress } from './server-address.ts';
import { parseChallenges } from '../core/digest.ts';
import { chooseAuth, type DigestSession } from './digest-client.ts';
import { RawHttpConnection } from './http-raw.ts';
import { clientSecureContext } from './tls-context.ts';
import { errorResult, urlPath, type FetchResult, type FileClient, type GetOptions, type PutOptions } from './file-client.ts';

export interface HttpClientOptions {
  /** The IP address to connect to (one of the name's addresses); the Host header keeps the name. */
  address: string;
  timeoutMs?: number;
  /** Shared agent (keep-alive) for load generation; a fresh connection per request otherwise. */
  agent?: http.Agent;
  /** TLS: extra CA certificates, and whether to verify the server's certificate. */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  localAddress?: string;
  /**
   * Plain HTTP only: one kept-alive connection spoken directly (http-raw.ts) instead of through
   * node:http, for load generation; the same bytes as node:http with a keep-alive agent.
   */
  raw?: boolean;
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  bytes: number;
  size?: number;
}

export class HttpFileClient implements FileClient {
  readonly protocol: 'http' | 'https';
  readonly address: string;
  private digest?: DigestSession;
  private basic?: string;
  private readonly timeoutMs: number;
  private readonly hostHeader: string;
  private readonly raw?: RawHttpConnection;

  constructor(
    private readonly server: ServerAddress,
    private readonly opts: HttpClientOptions,
  ) {
    if (server.protocol !== 'http' && server.protocol !== 'https') throw new Error(`HttpFileClient cannot speak ${server.protocol}`);
    this.protocol = server.protocol;
    this.address = opts.address;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const host = server.host.includes(':') ? `[${server.host}]` : server.host;
    this.hostHeader = server.port === (this.protocol === 'https' ? 443 : 80) ? host : `${host}:${server.port}`;
    if (opts.raw && this.protocol === 'http') this.raw = new RawHttpConnection({ host: opts.address, port: server.port, localAddress: opts.localAddress, timeoutMs: this.timeoutMs });
  }

  async get(path: string, opts: GetOptions = {}): Promise<FetchResult> {
    return this.withAuth('GET', path, opts, undefined, undefined);
  }

  async headThenHangUp(path: string, bytes: number, opts: GetOptions = {}): Promise<FetchResult> {
    return this.withAuth('GET', path, opts, undefined, bytes);
  }

  async put(path: string, body: Buffer, opts: PutOptions = {}): Promise<FetchResult> {
    return this.withAuth('PUT', path, opts, body, undefined);
  }

  async close(): Promise<void> {
    // node:http connections belong to the agent (shared or default); a raw one is the client's.
    this.raw?.close();
  }

  private async withAuth(method: string, path: string, opts: GetOptions, body: Buffer | undefined, headBytes: number | undefined): Promise<FetchResult> {
    const uri = urlPath(path);
    try {
      let r = await this.once(method, uri, opts, body, headBytes, this.authHeader(method, uri));
      // A cached challenge may have expired, so one fresh challenge is always answered; a second
      // 401 to fresh credentials means a wrong password unless the server says the nonce is stale.
      let fresh = false;
      for (let round = 0; r.status === 401 && round < 3; round++) {
        const challenges = parseChallenges(r.headers['www-authenticate']);
        const stale = challenges.some((c) => c.scheme === 'digest' && c.params.stale?.toLowerCase() === 'true');
        if (fresh && !stale) break;
        const auth = chooseAuth(challenges, this.server.user, this.server.password);
        if (!auth) break;
        if (auth.kind === 'digest') {
          this.digest = auth.session;
          this.basic = undefined;
        } else {
          this.basic = auth.header;
          this.digest = undefined;
        }
        fresh = true;
        r = await this.once(method, uri, opts, body, headBytes, this.authHeader(method, uri));
      }
      if (r.status === 401) {
        this.digest = undefined;
        this.basic = undefined;
      }
      return toResult(r, method);
    } catch (err) {
      return errorResult(err);
    }
  }

  private authHeader(method: string, uri: string): string | undefined {
    if (this.digest) return this.digest.authorization(method, uri);
    return this.basic;
  }

  private once(method: string, uri: string, opts: GetOptions, body: Buffer | undefined, headBytes: number | undefined, authorization: string | undefined): Promise<Raw> {
    if (this.raw && !opts.signal) {
      // The header lines node:http writes for these headers, in this order (http-raw.ts).
      let head = `${method} ${uri} HTTP/1.1\r\n`;
      if (opts.userAgent) head += `user-agent: ${headerValue(opts.userAgent)}\r\n`;
      if (authorization) head += `authorization: ${headerValue(authorization)}\r\n`;
      if (body) head += `content-length: ${body.length}\r\n`;
      return this.raw.request(`${head}host: ${this.hostHeader}\r\n`, body, headBytes);
    }
    const mod = this.protocol === 'https' ? https : http;
    const headers: Record<string, string> = {};
    if (opts.userAgent) headers['user-agent'] = opts.userAgent;
    if (authorization) headers.authorization = authorization;
    if (body) headers['content-length'] = String(body.length);
    headers.host = this.hostHeader;
    return new Promise<Raw>((resolve, reject) => {
      let settled = false;
      const done = (f: () => void) => {
        if (!settled) {
          settled = true;
          f();
        }
      };
      const req = mod.request(
        {
          host: this.opts.address,
          port: this.server.port,
          method,
          path: uri,
          headers,
          agent: this.opts.agent ?? false,
          signal: opts.signal,
          timeout: this.timeoutMs,
          ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
          ...(this.protocol === 'https'
            ? { ca: this.opts.ca, secureContext: clientSecureContext(this.opts.ca), rejectUnauthorized: this.opts.rejectUnauthorized ?? true, servername: isIp(this.server.host) ? undefined : this.server.host }
            : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let got = 0;
          const size = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
          const status = res.statusCode ?? 0;
          const hangUp = headBytes !== undefined && status >= 200 && status < 300;
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            got += c.length;
            if (hangUp && got >= headBytes) {
              // Enough of the header: hang up rather than read the image.
              done(() => resolve({ status, headers: res.headers, body: Buffer.concat(chunks).subarray(0, headBytes), bytes: got, size }));
              req.destroy();
            }
          });
          res.on('end', () => done(() => resolve({ status, headers: res.headers, body: Buffer.concat(chunks), bytes: got, size })));
          res.on('error', (e) => done(() => reject(e)));
          res.on('aborted', () => done(() => reject(Object.assign(new Error('connection closed mid-response'), { code: 'ECONNRESET' }))));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'timeout' })));
      req.on('error', (e) => done(() => reject(e)));
      req.end(body);
    });
  }
}

/** node:http refuses header values with control characters (ERR_INVALID_CHAR); so does the raw path. */
function headerValue(v: string): string {
  if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) throw Object.assign(new TypeError('Invalid character in header content'), { code: 'ERR_INVALID_CHAR' });
  return v;
}

function isIp(h: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(':');
}

function toResult(r: Raw, method: string): FetchResult {
  const wire = String(r.status);
  if (r.status >= 200 && r.status < 300) return method === 'GET' ? { status: 'ok', body: r.body, bytes: r.bytes, wire, size: r.size } : { status: 'ok', bytes: 0, wire };
  if (r.status === 404 || r.status === 410) return { status: 'not-found', bytes: r.bytes, wire };
  if (r.status === 401 || r.status === 403 || r.status === 405) return { status: 'denied', bytes: r.bytes, wire };
  return { status: 'error', bytes: r.bytes, wire, error: `HTTP ${r.status}` };
}
