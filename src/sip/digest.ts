// Client side of HTTP Digest as SIP uses it (RFC 3261 §22.4 on RFC 2617) and as the phone's
// push server uses it (RFC 7616): parse a WWW-Authenticate/Proxy-Authenticate challenge, compute
// the response, build the Authorization/Proxy-Authorization value.
//
// Phones with voIpProt.SIP.requestValidation set to digest challenge a NOTIFY with realm
// "PolycomSPIP" and check it against the line's reg.N.auth.userId/password (facts §4.1).
import { createHash, randomBytes } from 'node:crypto';
import { splitTopLevel, unquote } from './message.ts';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** qop-options offered by the server (`auth`, `auth-int`); empty = RFC 2069 compatibility mode. */
  qop: string[];
  stale: boolean;
}

export interface DigestCredentials {
  user: string;
  password: string;
}

/** Parses `Digest realm="…", nonce="…", qop="auth"`. Undefined when not a usable Digest challenge. */
export function parseChallenge(value: string): DigestChallenge | undefined {
  const m = /^\s*Digest\s+([\s\S]*)$/i.exec(value);
  if (!m) return undefined;
  const p = parseAuthParams(m[1]!);
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const algRaw = (p.get('algorithm') ?? 'MD5').toUpperCase();
  const algorithm = (
    { MD5: 'MD5', 'MD5-SESS': 'MD5-sess', 'SHA-256': 'SHA-256', 'SHA-256-SESS': 'SHA-256-sess' } as Record<string, DigestAlgorithm>
  )[algRaw];
  if (!algorithm) return undefined;
  const qop = (p.get('qop') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return { realm, nonce, opaque: p.get('opaque'), algorithm, qop, stale: (p.get('stale') ?? '').toLowerCase() === 'true' };
}

/** `a="x", b=y` → map with lower-case names and unquoted values. */
export function parseAuthParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of splitTopLevel(s, ',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim().toLowerCase(), unquote(part.slice(eq + 1).trim()));
  }
  return out;
}

function hashHex(alg: DigestAlgorithm, s: string): string {
  return createHash(alg.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(s, 'utf8')
    .digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  user: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** Absent in RFC 2069 compatibility mode. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

/**
 * RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1:
 *   HA1 = H(user:realm:password)            (…-sess: H(H(user:realm:password):nonce:cnonce))
 *   HA2 = H(method:uri)
 *   response = H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) without qop.
 */
export function digestResponse(i: DigestInput): string {
  let ha1 = hashHex(i.algorithm, `${i.user}:${i.realm}:${i.password}`);
  if (i.algorithm.endsWith('-sess')) ha1 = hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.cnonce ?? ''}`);
  const ha2 = hashHex(i.algorithm, `${i.method}:${i.uri}`);
  return i.qop
    ? hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`)
    : hashHex(i.algorithm, `${ha1}:${i.nonce}:${ha2}`);
}

function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * Counts uses of each nonce (RFC 2617 §3.2.2: nc is the hex count of requests sent with this
 * nonce). One instance per sender; nonces are never shared between targets anyway.
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
      if (!challenge.qop.includes('auth')) return undefined; // auth-int needs the body hash; a NOTIFY has no body but we keep to auth
      qop = 'auth';
    }
    const n = (this.counts.get(challenge.nonce) ?? 0) + 1;
    this.counts.set(challenge.nonce, n);
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
    // RFC 3261 §25.1 / RFC 2617 §3.2.2: qop and nc are tokens, never quoted; cnonce is quoted.
    if (cnonce) parts.push(`cnonce=${quote(cnonce)}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`);
    if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}
