// Node's HTTP client and curl, the two real clients the HTTP tests drive the server with.
import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Each WWW-Authenticate header separately (Node's client joins them with ", "). */
  challenges: string[];
}

export function req(url: string, o: { method?: string; headers?: Record<string, string>; body?: Buffer | string; ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const fn = url.startsWith('https:') ? httpsRequest : httpRequest;
    const r = fn(url, { method: o.method ?? 'GET', headers: o.headers, agent: false, rejectUnauthorized: false, ca: o.ca, cert: o.cert, key: o.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), challenges });
      });
      res.on('error', reject);
    });
    r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(o.body);
  });
}

/** Runs curl with a time limit; resolves with stdout and the exit code. */
export function curl(args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args], { timeout: timeoutMs + 2000, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A Digest Authorization value (RFC 7616 §3.4) computed from a challenge. */
import { createHash, randomBytes } from 'node:crypto';
export function digestAuth(challenge: string, user: string, password: string, method: string, uri: string, nc = 1, alg: 'MD5' | 'SHA-256' = 'MD5'): string {
  const get = (k: string) => new RegExp(`${k}="?([^",]*)"?`).exec(challenge)?.[1] ?? '';
  const realm = get('realm');
  const nonce = get('nonce');
  const opaque = get('opaque');
  const H = (s: string) => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const ncs = nc.toString(16).padStart(8, '0');
  const response = H(`${H(`${user}:${realm}:${password}`)}:${nonce}:${ncs}:${cnonce}:auth:${H(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=${alg}, qop=auth, nc=${ncs}, cnonce="${cnonce}", response="${response}", opaque="${opaque}"`;
}
