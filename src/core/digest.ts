// HTTP Digest, once: the wire syntax (challenges and Authorization values, RFC 7235 §4.1 and
// RFC 7616 §3.3–3.4), the hashes (HA1, the -sess HA1, HA2, the response: RFC 7616 §3.4.1–3.4.3,
// RFC 2617 §3.2.2.1, and the RFC 2069 form without qop that SIP still meets, RFC 3261 §22.4), and
// the client that counts nonce uses. Every user calls this module: the boot server's authority
// (digest-auth.ts), the provisioning accounts (HA1 per realm, makeAccount), the SIP NOTIFY and
// push clients (src/sip/), and the virtual phone's HTTP client and NOTIFY listener (src/phone/).
// It lives in the core because faces may import the core; the store only keeps the hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Account, AccountKind, Mac } from '../domain.ts';

/** RFC 7616 §3.3 algorithms (the `-sess` forms hash the nonces into HA1, §3.4.2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

const ALGORITHMS: Record<string, DigestAlgorithm> = { MD5: 'MD5', 'MD5-SESS': 'MD5-sess', 'SHA-256': 'SHA-256', 'SHA-256-SESS': 'SHA-256-sess' };

/** The `algorithm` parameter as we name it; absent means MD5 (RFC 7616 §3.3). Undefined when not one we do. */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  return ALGORITHMS[(value ?? 'MD5').toUpperCase()];
}

// ---------- wire syntax ----------

/** One challenge (WWW-Authenticate) or credentials value (Authorization): scheme in lower case, params by lower-case name. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses WWW-Authenticate or Authorization values (RFC 7235 §4.1, §2.1). One value may carry several
 * challenges (`Digest realm="a", nonce="b", Basic realm="a"`); several values may be given.
 * Parameter values are token or quoted-string (backslash escapes undone).
 */
export function parseChallenges(values: string | readonly string[] | undefined): AuthChallenge[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  const out: AuthChallenge[] = [];
  for (const s of list) {
    let i = 0;
    let cur: AuthChallenge | undefined;
    while (i < s.length) {
      while (i < s.length && (s[i] === ' ' || s[i] === ',' || s[i] === '\t')) i++;
      const tok = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!tok) break;
      const word = tok[0];
      let j = i + word.length;
      while (s[j] === ' ' || s[j] === '\t') j++;
      if (s[j] === '=' && s[j + 1] !== '=') {
        j++;
        while (s[j] === ' ' || s[j] === '\t') j++;
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
          val = /^[^,\s]*/.exec(s.slice(j))![0];
          j += val.length;
        }
        const name = word.toLowerCase();
        if (cur && name !== '__proto__') cur.params[name] = val;
        i = j;
      } else {
        // A new scheme (the token68 form is not used by Digest).
        cur = { scheme: word.toLowerCase(), params: {} };
        out.push(cur);
        i = j;
      }
    }
  }
  return out;
}

/** `Digest username="…", …` → its scheme and fields. Undefined when the value is empty. */
export function parseAuthorization(value: string): AuthChallenge | undefined {
  return parseChallenges(value)[0];
}

/** The auth-params after the scheme (`a="x, y", b=z`), as `parseChallenges` reads them. */
export function parseAuthParams(params: string): Record<string, string> {
  return parseChallenges(`Digest ${params}`)[0]?.params ?? {};
}

/** A Digest challenge, checked: what a client needs to answer it. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** qop-options offered (`auth`, `auth-int`); empty = RFC 2069 compatibility mode. */
  qop: string[];
  stale: boolean;
}

/** A usable Digest challenge from a header value or a parsed challenge; undefined otherwise. */
export function digestChallenge(c: string | AuthChallenge): DigestChallenge | undefined {
  const parsed = typeof c === 'string' ? parseAuthorization(c) : c;
  if (!parsed || parsed.scheme !== 'digest') return undefined;
  const p = parsed.params;
  const algorithm = parseDigestAlgorithm(p.algorithm);
  if (p.realm === undefined || p.nonce === undefined || !algorithm) return undefined;
  const qop = (p.qop ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return { realm: p.realm, nonce: p.nonce, opaque: p.opaque, algorithm, qop, stale: (p.stale ?? '').toLowerCase() === 'true' };
}

// ---------- hashes ----------

function hashHex(alg: DigestAlgorithm, s: string): string {
  // RFC 7616 §4 (charset=UTF-8): the strings are hashed as UTF-8 octets.
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(s, 'utf8')
    .digest('hex');
}

/** RFC 7616 §3.4.2: HA1 = H(username ":" realm ":" password), what accounts keep instead of passwords. */
export function ha1(alg: DigestAlgorithm, user: string, realm: string, password: string): string {
  return hashHex(alg, `${user}:${realm}:${password}`);
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  /** The stored H(user:realm:password) (a server knows only this), or the password to compute it. */
  ha1?: string;
  user?: string;
  realm?: string;
  password?: string;
  method: string;
  uri: string;
  nonce: string;
  /** Absent in RFC 2069 compatibility mode. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

/**
 * RFC 7616 §3.4.1 / RFC 2617 §3.2.2.1:
 *   HA1 = H(user:realm:password)         (…-sess: H(H(user:realm:password):nonce:cnonce))
 *   HA2 = H(method:uri)
 *   response = H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) without qop (RFC 2069).
 */
export function digestResponse(i: DigestInput): string {
  let h1 = i.ha1 ?? ha1(i.algorithm, i.user ?? '', i.realm ?? '', i.password ?? '');
  if (i.algorithm.endsWith('-sess')) h1 = hashHex(i.algorithm, `${h1}:${i.nonce}:${i.cnonce ?? ''}`);
  const ha2 = hashHex(i.algorithm, `${i.method}:${i.uri}`);
  return i.qop
    ? hashHex(i.algorithm, `${h1}:${i.nonce}:${i.nc ?? ''}:${i.cnonce ?? ''}:${i.qop}:${ha2}`)
    : hashHex(i.algorithm, `${h1}:${i.nonce}:${ha2}`);
}

/**
 * Checks the `response` of parsed Authorization fields against HA1 (or a password), in constant
 * time. Only qop=auth or no qop (auth-int is never offered); the algorithm is the one the fields name.
 */
export function verifyDigestResponse(fields: Record<string, string>, method: string, secret: { ha1: string } | { password: string }): boolean {
  const algorithm = parseDigestAlgorithm(fields.algorithm);
  if (!algorithm || !fields.response) return false;
  if (fields.qop !== undefined && fields.qop !== 'auth') return false;
  const expected = digestResponse({
    algorithm,
    ...('ha1' in secret ? { ha1: secret.ha1 } : { user: fields.username ?? '', realm: fields.realm ?? '', password: secret.password }),
    method,
    uri: fields.uri ?? '',
    nonce: fields.nonce ?? '',
    qop: fields.qop === 'auth' ? 'auth' : undefined,
    nc: fields.nc,
    cnonce: fields.cnonce,
  });
  const got = Buffer.from(fields.response.toLowerCase());
  const want = Buffer.from(expected);
  return got.length === want.length && timingSafeEqual(got, want);
}

// ---------- accounts ----------

/** A provisioning account: both HA1 values for its realm, never the password (RFC 7616 §3.4.2). */
export function makeAccount(kind: AccountKind, user: string, password: string, realm: string, mac?: Mac): Account {
  if (user.includes(':')) throw new TypeError('a Digest user name cannot contain ":" (RFC 7617 §2, RFC 7616 §3.4.2)');
  // Both algorithms: old phones speak only MD5, RFC 7616 prefers SHA-256 and the server offers it first (§3.7).
  const a: Account = {
    user,
    kind,
    realm,
    ha1Md5: ha1('MD5', user, realm, password),
    ha1Sha256: ha1('SHA-256', user, realm, password),
    createdAt: new Date(),
  };
  if (mac !== undefined) a.mac = mac;
  return a;
}

// ---------- client ----------

export interface DigestCredentials {
  user: string;
  password: string;
}

function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Answers Digest challenges, counting uses of each nonce (RFC 7616 §3.4: nc is the hex count of
 * requests sent with this nonce). One instance per sender.
 */
export class DigestClient {
  private readonly counts = new Map<string, number>();

  constructor(private readonly makeCnonce: () => string = () => randomBytes(8).toString('hex')) {}

  /**
   * The Authorization (or Proxy-Authorization) value answering `challenge` for this request, or
   * undefined when the challenge asks for something we do not do (only qop=auth-int offered).
   */
  authorize(challenge: DigestChallenge, creds: DigestCredentials, method: string, uri: string): string | undefined {
    let qop: 'auth' | undefined;
    if (challenge.qop.length > 0) {
      if (!challenge.qop.includes('auth')) return undefined; // auth-int needs a body hash; boot servers and phones offer auth
      qop = 'auth';
    }
    const n = (this.counts.get(challenge.nonce) ?? 0) + 1;
    this.counts.set(challenge.nonce, n);
    if (this.counts.size > 1000) this.counts.delete(this.counts.keys().next().value as string);
    const nc = n.toString(16).padStart(8, '0');
    const cnonce = qop || challenge.algorithm.endsWith('-sess') ? this.makeCnonce() : undefined;
    const response = digestResponse({ algorithm: challenge.algorithm, user: creds.user, realm: challenge.realm, password: creds.password, method, uri, nonce: challenge.nonce, qop, nc, cnonce });
    const parts = [
      `username=${quote(creds.user)}`,
      `realm=${quote(challenge.realm)}`,
      `nonce=${quote(challenge.nonce)}`,
      `uri=${quote(uri)}`,
      `response=${quote(response)}`,
      `algorithm=${challenge.algorithm}`,
    ];
    // RFC 7616 §3.4 / RFC 3261 §25.1: qop and nc are tokens, never quoted; cnonce is quoted.
    if (cnonce) parts.push(`cnonce=${quote(cnonce)}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`);
    if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

const PREFERENCE: DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** The strongest usable Digest challenge among several (RFC 7616 §3.7: SHA-256 before MD5; auth-int-only skipped). */
export function strongestDigest(challenges: readonly AuthChallenge[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const c of challenges) {
    const d = digestChallenge(c);
    if (!d || (d.qop.length > 0 && !d.qop.includes('auth'))) continue;
    if (!best || PREFERENCE.indexOf(d.algorithm) < PREFERENCE.indexOf(best.algorithm)) best = d;
  }
  return best;
}
