// The client half of HTTP authentication: read a 401's WWW-Authenticate challenges and answer
// the strongest we support. RFC 7616 Digest (MD5, SHA-256 and their -sess forms, qop=auth or
// none) and RFC 7617 Basic. Phones answer Basic and Digest (facts §3.5).
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate values (RFC 7235 §4.1). One header may carry several challenges
 * (`Digest realm="a", nonce="b", Basic realm="a"`); several headers may be given.
 */
export function parseChallenges(headers: string | string[] | undefined): Challenge[] {
  const values = headers === undefined ? [] : Array.isArray(headers) ? headers : [headers];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    let cur: Challenge | undefined;
    const s = value;
    while (i < s.length) {
      while (i < s.length && (s[i] === ' ' || s[i] === ',' || s[i] === '\t')) i++;
      const tok = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!tok) break;
      const word = tok[0];
      let j = i + word.length;
      while (s[j] === ' ') j++;
      if (s[j] === '=' && s[j + 1] !== '=') {
        // auth-param name=value (token or quoted-string)
        j++;
        while (s[j] === ' ') j++;
        let val = '';
        if (s[j] === '"') {
          j++;
          while (j < s.length && s[j] !== '"') {
            if (s[j] === '\\' && j + 1 < s.length) j++;
            val += s[j];
            j++;
          }
          j++;
        } else {
          const v = /^[^,\s]*/.exec(s.slice(j))![0];
          val = v;
          j += v.length;
        }
        if (cur) cur.params[word.toLowerCase()] = val;
        i = j;
      } else {
        // A new scheme (token68 forms are not used by Basic/Digest challenges).
        cur = { scheme: word.toLowerCase(), params: {} };
        out.push(cur);
        i = j;
      }
    }
  }
  return out;
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

function hash(alg: DigestAlgorithm, s: string): string {
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5').update(s, 'utf8').digest('hex');
}

function normalizeAlgorithm(a: string | undefined): DigestAlgorithm | undefined {
  const v = (a ?? 'MD5').toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'MD5-SESS') return 'MD5-sess';
  if (v === 'SHA-256') return 'SHA-256';
  if (v === 'SHA-256-SESS') return 'SHA-256-sess';
  return undefined;
}

/** A digest session: one server challenge, reused with a growing nonce count (RFC 7616 §3.4). */
export class DigestSession {
  private nc = 0;
  private readonly cnonce = randomBytes(8).toString('hex');
  constructor(
    readonly challenge: Challenge,
    readonly algorithm: DigestAlgorithm,
    private readonly user: string,
    private readonly password: string,
  ) {}

  authorization(method: string, uri: string): string {
    const p = this.challenge.params;
    const realm = p.realm ?? '';
    const nonce = p.nonce ?? '';
    const qops = (p.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
    const qop = qops.includes('auth') ? 'auth' : undefined;
    this.nc++;
    const nc = this.nc.toString(16).padStart(8, '0');
    let ha1 = hash(this.algorithm, `${this.user}:${realm}:${this.password}`);
    if (this.algorithm.endsWith('-sess')) ha1 = hash(this.algorithm, `${ha1}:${nonce}:${this.cnonce}`);
    const ha2 = hash(this.algorithm, `${method}:${uri}`);
    const response = qop
      ? hash(this.algorithm, `${ha1}:${nonce}:${nc}:${this.cnonce}:${qop}:${ha2}`)
      : hash(this.algorithm, `${ha1}:${nonce}:${ha2}`);
    const q = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;
    const fields = [`username=${q(this.user)}`, `realm=${q(realm)}`, `nonce=${q(nonce)}`, `uri=${q(uri)}`, `algorithm=${this.algorithm}`, `response=${q(response)}`];
    if (p.opaque !== undefined) fields.push(`opaque=${q(p.opaque)}`);
    if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${q(this.cnonce)}`);
    return `Digest ${fields.join(', ')}`;
  }
}

const PREFERENCE: DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/**
 * Chooses how to answer a 401: the strongest Digest we support (qop=auth or none; auth-int is
 * not offered by boot servers), else Basic. Undefined when nothing usable was offered.
 */
export function chooseAuth(challenges: Challenge[], user: string, password: string): { kind: 'digest'; session: DigestSession } | { kind: 'basic'; header: string } | undefined {
  let best: { c: Challenge; alg: DigestAlgorithm } | undefined;
  for (const c of challenges) {
    if (c.scheme !== 'digest') continue;
    const alg = normalizeAlgorithm(c.params.algorithm);
    if (!alg) continue;
    const qops = (c.params.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
    if (qops.length > 0 && !qops.includes('auth')) continue;
    if (!best || PREFERENCE.indexOf(alg) < PREFERENCE.indexOf(best.alg)) best = { c, alg };
  }
  if (best) return { kind: 'digest', session: new DigestSession(best.c, best.alg, user, password) };
  if (challenges.some((c) => c.scheme === 'basic')) {
    return { kind: 'basic', header: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
  }
  return undefined;
}

/** Server side (the phone's NOTIFY listener): verify a Digest Authorization against a known password. */
export function verifyDigest(fields: Record<string, string>, method: string, password: string): boolean {
  const alg = normalizeAlgorithm(fields.algorithm);
  if (!alg) return false;
  let ha1 = hash(alg, `${fields.username ?? ''}:${fields.realm ?? ''}:${password}`);
  if (alg.endsWith('-sess')) ha1 = hash(alg, `${ha1}:${fields.nonce ?? ''}:${fields.cnonce ?? ''}`);
  const ha2 = hash(alg, `${method}:${fields.uri ?? ''}`);
  const expected = fields.qop
    ? hash(alg, `${ha1}:${fields.nonce ?? ''}:${fields.nc ?? ''}:${fields.cnonce ?? ''}:${fields.qop}:${ha2}`)
    : hash(alg, `${ha1}:${fields.nonce ?? ''}:${ha2}`);
  return expected === (fields.response ?? '').toLowerCase();
}

/** Parses `Digest a="b", c=d` (an Authorization header) into its fields. */
export function parseAuthorization(value: string): { scheme: string; params: Record<string, string> } | undefined {
  const [c] = parseChallenges(value);
  return c ? { scheme: c.scheme, params: c.params } : undefined;
}
