// What HTTP headers mean to the boot server, apart from serving: Authorization and client
// certificates as credentials, a challenge as WWW-Authenticate values, conditional requests
// (RFC 9110 §13), byte ranges (RFC 9110 §14), Expect: 100-continue, Content-Type and
// Last-Modified. The listener (http.ts) uses them to translate each request and result.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { parseAuthParams } from '../core/digest.ts';
import type { AuthChallenge, ByteRange, Credentials, FileResult } from '../core/request.ts';

const TYPES: Record<string, string> = {
  cfg: 'application/xml',
  xml: 'application/xml',
  log: 'text/plain; charset=utf-8',
  ld: 'application/octet-stream',
  ver: 'text/plain',
  wav: 'audio/wav',
  jpg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
};

/** Last-Modified values: a file's mtime is asked for thousands of times; format it once. */
const dates = new Map<number, string>();
export function httpDate(d: Date): string {
  const t = d.getTime();
  let s = dates.get(t);
  if (s === undefined) {
    s = d.toUTCString();
    if (dates.size >= 10_000) dates.clear();
    dates.set(t, s);
  }
  return s;
}

export function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

export function credentialsOf(req: IncomingMessage, method: string): Credentials | undefined {
  const h = req.headers.authorization;
  if (h) {
    const sp = h.indexOf(' ');
    const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : h.slice(sp + 1).trim();
    if (scheme === 'basic') {
      const dec = Buffer.from(rest, 'base64').toString('utf8');
      const c = dec.indexOf(':');
      if (c >= 0) return { kind: 'basic', user: dec.slice(0, c), password: dec.slice(c + 1) };
      return { kind: 'basic', user: dec, password: '' };
    }
    if (scheme === 'digest') return { kind: 'digest', method, fields: parseAuthParams(rest) };
  }
  const sock = req.socket as TLSSocket;
  if (typeof sock.getPeerCertificate === 'function' && sock.authorized) {
    const cert = sock.getPeerCertificate();
    if (cert && cert.fingerprint256) {
      const sans = (cert.subjectaltname ?? '').split(/,\s*/).map((s) => s.replace(/^[A-Za-z ]+:/, '')).filter(Boolean);
      const cn = cert.subject?.CN;
      return { kind: 'cert', subjectCN: Array.isArray(cn) ? cn[0] : cn, subjectAltNames: sans, fingerprint256: cert.fingerprint256 };
    }
  }
  return undefined;
}

/**
 * WWW-Authenticate values for a challenge: one Digest challenge per algorithm, strongest first
 * (RFC 7616 §3.7), then Basic (RFC 7617 §2.1, charset UTF-8).
 */
export function wwwAuthenticate(c: AuthChallenge): string[] {
  const common = `realm="${c.realm}", qop="${c.qop}", nonce="${c.nonce}", opaque="${c.opaque}"${c.stale ? ', stale=true' : ''}`;
  const out = c.algorithms.map((a) => `Digest ${common}, algorithm=${a}`);
  if (c.basic) out.push(`Basic realm="${c.realm}", charset="UTF-8"`);
  return out;
}

export function continueThenRead(req: IncomingMessage, res: ServerResponse): Readable {
  return Readable.from(
    (async function* () {
      res.writeContinue();
      for await (const chunk of req) yield chunk as Buffer;
    })(),
    { objectMode: false },
  );
}

/** RFC 9110 §14.1.2: one `bytes=` range; several ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * RFC 9110 §13.1.2-13.1.3, with one deliberate narrowing (issue 16, Several nodes): the ETag is
 * a hash of the bytes, the same on every node, and decides. If-Modified-Since (looked at only
 * without If-None-Match) answers 304 only when the date is exactly this file's Last-Modified:
 * nodes reading copies of a tree have their own mtimes, so "not modified since" by date could
 * answer 304 for other bytes from a copy with an older date. Another date gets the file.
 */
export function notModified(req: IncomingMessage, f: FileResult): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.split(',').some((t) => {
      const v = t.trim();
      return v === '*' || v === f.etag || v.replace(/^W\//, '') === f.etag.replace(/^W\//, '');
    });
  }
  const ims = req.headers['if-modified-since'];
  if (ims) {
    const t = Date.parse(ims);
    return Number.isFinite(t) && Math.floor(f.mtime.getTime() / 1000) === Math.floor(t / 1000);
  }
  return false;
}
