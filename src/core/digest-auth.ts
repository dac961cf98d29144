// Server side of HTTP Digest (RFC 7616, qop=auth, MD5 and SHA-256). Nonces are stateless and
// signed (HMAC with a secret shared by every node through the store), so any node can check
// that a nonce is ours and fresh. Replay protection is the nonce count: each (nonce, nc) is
// accepted once, in increasing order. That table is per node: a cluster behind a balancer
// should keep a phone on one node (source-address affinity), as stated in the README.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Account } from '../store/store.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestFields {
  username?: string;
  realm?: string;
  nonce?: string;
  uri?: string;
  response?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
  opaque?: string;
}

export type DigestVerdict = { ok: true; user: string } | { ok: false; reason: 'malformed' | 'stale' | 'replayed' | 'bad-response' | 'unknown-user' | 'wrong-realm' | 'wrong-uri' };

function hash(alg: DigestAlgorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');
}

export class DigestAuthority {
  private readonly used = new Map<string, { nc: number; expires: number }>();
  private lastSweep = Date.now();

  constructor(
    readonly realm: string,
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh signed nonce: time, random, HMAC(secret, time.random). */
  nonce(): string {
    const body = `${this.now().toString(16)}.${randomBytes(12).toString('hex')}`;
    const mac = createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
    return `${body}.${mac}`;
  }

  /** WWW-Authenticate values, strongest first (RFC 7616 §3.7: one challenge per algorithm). */
  challenges(stale = false, withBasic = true): string[] {
    const nonce = this.nonce();
    const opaque = createHash('sha256').update(this.realm).digest('hex').slice(0, 16);
    const common = `realm="${this.realm}", qop="auth", nonce="${nonce}", opaque="${opaque}"${stale ? ', stale=true' : ''}`;
    const out = [`Digest ${common}, algorithm=SHA-256`, `Digest ${common}, algorithm=MD5`];
    if (withBasic) out.push(`Basic realm="${this.realm}", charset="UTF-8"`);
    return out;
  }

  private nonceAge(nonce: string): number | undefined {
    const parts = nonce.split('.');
    if (parts.length !== 3) return undefined;
    const [ts, rnd, mac] = parts as [string, string, string];
    const expect = createHmac('sha256', this.secret).update(`${ts}.${rnd}`).digest('base64url').slice(0, 22);
    const a = Buffer.from(mac);
    const b = Buffer.from(expect);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    const t = parseInt(ts, 16);
    return Number.isFinite(t) ? this.now() - t : undefined;
  }

  /**
   * Checks a Digest Authorization against an account. `requestUri` is the request target as
   * the transport received it; the digest `uri` must name the same resource.
   */
  verify(f: DigestFields, method: string, requestUri: string, account: Account | undefined): DigestVerdict {
    if (!f.username || !f.nonce || !f.uri || !f.response || !f.nc || !f.cnonce) return { ok: false, reason: 'malformed' };
    if (f.qop !== 'auth') return { ok: false, reason: 'malformed' };
    if (f.realm !== this.realm) return { ok: false, reason: 'wrong-realm' };
    const alg = (f.algorithm ?? 'MD5').toUpperCase();
    if (alg !== 'MD5' && alg !== 'SHA-256') return { ok: false, reason: 'malformed' };
    if (!/^[0-9a-fA-F]{8}$/.test(f.nc)) return { ok: false, reason: 'malformed' };
    if (stripQuery(f.uri) !== stripQuery(requestUri)) return { ok: false, reason: 'wrong-uri' };
    const age = this.nonceAge(f.nonce);
    if (age === undefined) return { ok: false, reason: 'stale' };
    if (age > this.ttlMs || age < -60_000) return { ok: false, reason: 'stale' };
    if (!account) return { ok: false, reason: 'unknown-user' };
    const ha1 = alg === 'MD5' ? account.ha1Md5 : account.ha1Sha256;
    const ha2 = hash(alg as DigestAlgorithm, `${method}:${f.uri}`);
    const expected = hash(alg as DigestAlgorithm, `${ha1}:${f.nonce}:${f.nc}:${f.cnonce}:auth:${ha2}`);
    const got = Buffer.from(f.response.toLowerCase());
    const want = Buffer.from(expected);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad-response' };
    // Only a correct response consumes the count, so a forger cannot burn a phone's nonce.
    const nc = parseInt(f.nc, 16);
    const seen = this.used.get(f.nonce);
    if (seen && nc <= seen.nc) return { ok: false, reason: 'replayed' };
    this.used.set(f.nonce, { nc, expires: this.now() + this.ttlMs });
    this.sweep();
    return { ok: true, user: f.username };
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [k, v] of this.used) if (v.expires < now) this.used.delete(k);
  }
}

function stripQuery(u: string): string {
  // Clients send either the path or the absolute URI; compare the path part, decoded once.
  let p = u;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(p);
  if (scheme) p = p.slice(scheme[0].length) || '/';
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** Parses the parameters of a `Digest k=v, k="v"` header (RFC 7616 §3.4). */
export function parseDigestHeader(value: string): DigestFields {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return out as DigestFields;
}
