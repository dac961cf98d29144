// A small HTTP boot server for the virtual phone's tests: serves files from a Map, stores PUTs,
// records every request (method, path, User-Agent, Authorization), and can demand Basic or
// Digest (RFC 7616, qop=auth) credentials, or fail chosen paths. A fake kept for what a test must
// control or see on the wire (an auth scheme or algorithm, an injected failure, the exact headers);
// what the boot service decides is tested against the real one (boot-real-core.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAuthorization } from '../../src/core/digest.ts';

export interface Recorded {
  method: string;
  path: string;
  userAgent?: string;
  authorization?: string;
  status: number;
}

export interface RecordingServerOptions {
  auth?: { scheme: 'basic' | 'digest'; user: string; password: string; realm?: string; algorithm?: 'MD5' | 'SHA-256' };
  /** Paths answered with this status instead (e.g. 500). */
  fail?: Map<string, number>;
}

export interface RecordingServer {
  url: string;
  port: number;
  files: Map<string, Buffer>;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startRecordingServer(files: Record<string, string | Buffer>, opts: RecordingServerOptions = {}): Promise<RecordingServer> {
  const store = new Map<string, Buffer>(Object.entries(files).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));
  const requests: Recorded[] = [];
  const nonces = new Set<string>();
  const realm = opts.auth?.realm ?? 'polyprov';
  const H = (s: string) => createHash(opts.auth?.algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');

  const authorized = (req: http.IncomingMessage): boolean => {
    const a = opts.auth;
    if (!a) return true;
    const h = req.headers.authorization;
    if (!h) return false;
    if (a.scheme === 'basic') return h === `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}`;
    const f = parseAuthorization(h);
    if (!f || f.scheme !== 'digest') return false;
    const p = f.params;
    if (!nonces.has(p.nonce ?? '') || p.username !== a.user || p.realm !== realm || p.uri !== req.url) return false;
    const ha1 = H(`${a.user}:${realm}:${a.password}`);
    const ha2 = H(`${req.method}:${p.uri}`);
    return p.response === H(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
  };

  const server = http.createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/+/, '');
    const rec: Recorded = { method: req.method ?? '', path, userAgent: req.headers['user-agent'], authorization: req.headers.authorization, status: 0 };
    requests.push(rec);
    const send = (status: number, body?: Buffer, headers: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-length': String(body?.length ?? 0), ...headers });
      res.end(body);
    };
    if (!authorized(req)) {
      const nonce = randomBytes(8).toString('hex');
      nonces.add(nonce);
      const challenge =
        opts.auth!.scheme === 'basic'
          ? `Basic realm="${realm}"`
          : `Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=${opts.auth!.algorithm ?? 'MD5'}`;
      req.resume();
      return send(401, undefined, { 'www-authenticate': challenge });
    }
    const failStatus = opts.fail?.get(path);
    if (failStatus) {
      req.resume();
      return send(failStatus);
    }
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        store.set(path, Buffer.concat(chunks));
        send(204);
      });
      return;
    }
    const lower = [...store.keys()].find((k) => k.toLowerCase() === path.toLowerCase());
    const body = lower === undefined ? undefined : store.get(lower);
    if (!body) return send(404);
    send(200, body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    files: store,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
