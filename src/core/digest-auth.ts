// Server side of HTTP Digest (RFC 7616, qop=auth, MD5 and SHA-256): the nonces and the check of an
// Authorization against an account's HA1 (the hashes are computed in digest.ts; the challenge as
// data is authenticate.ts's challengeOf, formatted by each adapter).
//
// Nonces are stateless and signed: HMAC with a secret kept in the store, so a nonce that is not
// ours is told apart from one that merely expired. Replay protection is the nonce count: each
// (nonce, nc) is accepted once, in increasing order, in a table held in memory. Because that
// table dies with the process, every nonce also carries this process's epoch (random, drawn at
// start) under the signature, and only nonces of this epoch are accepted: a response captured
// before a restart (or issued by another worker or node) is answered 401 stale=true, so the phone
// retries with a fresh nonce and the capture is worth nothing (issue 13 item 9). No store access
// per request.
// Under `serve --workers N` (issue 16, One machine, every core) the epoch starts with the worker's
// slot (`w1-…`): a nonce is bound to the worker that issued it, whose table alone counts its uses.
// Another worker given it (connections go to workers in turn, and a 401 to an upload closes the
// connection, so a phone's retry often reaches another worker) asks the issuing worker, through
// the primary, to count the use (`siblings`, consume()): accepted once per count, a replay never,
// and stale=true when the issuer is gone (restarted: its table died with it) or does not answer.
// Only such a foreign nonce costs a message; a nonce used where it was issued costs none.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Account } from '../domain.ts';
import { workerRole } from '../util/worker-role.ts';
import { parseDigestAlgorithm, verifyDigestResponse } from './digest.ts';

/** The Authorization fields as parsed (digest.ts parseAuthorization), by lower-case name. */
export type DigestFields = Record<string, string>;

export type DigestVerdict = { ok: true; user: string } | { ok: false; reason: 'malformed' | 'stale' | 'replayed' | 'bad-response' | 'unknown-user' | 'wrong-realm' | 'wrong-uri' };

/** How a worker reaches the worker that issued a sibling's nonce (src/cluster/worker.ts). */
export interface NonceSiblings {
  /** Counts the use at the issuing worker: its consume() verdict, 'stale' when it is gone or silent. */
  consume(slot: number, nonce: string, nc: number): Promise<'ok' | 'replayed' | 'stale'>;
}

export class DigestAuthority {
  /** Set by a worker of `serve --workers N`: sibling workers' nonces are counted by their issuer. */
  siblings?: NonceSiblings;
  private readonly used = new Map<string, { nc: number; expires: number }>();
  private lastSweep: number;
  /** This process's nonce epoch: nonces of any other epoch are stale. */
  readonly epoch: string;

  constructor(
    readonly realm: string,
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    epoch: string = newEpoch(),
  ) {
    this.epoch = epoch;
    this.lastSweep = now();
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
  }

  /** A fresh signed nonce: epoch.time.random.HMAC(secret, epoch.time.random). */
  nonce(): string {
    const body = `${this.epoch}.${this.now().toString(16)}.${randomBytes(12).toString('hex')}`;
    return `${body}.${this.sign(body)}`;
  }

  /**
   * 'current' when the nonce is ours, of this process's epoch, and within its lifetime; 'sibling'
   * (with its slot) when signed by us, within its lifetime, but issued by another worker; else 'stale'.
   */
  private nonceState(nonce: string): { state: 'current' } | { state: 'sibling'; slot: number } | { state: 'stale' } {
    const parts = nonce.split('.');
    if (parts.length !== 4) return { state: 'stale' };
    const [epoch, ts, rnd, mac] = parts as [string, string, string, string];
    const a = Buffer.from(mac);
    const b = Buffer.from(this.sign(`${epoch}.${ts}.${rnd}`));
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { state: 'stale' };
    const age = this.now() - parseInt(ts, 16);
    if (!(Number.isFinite(age) && age <= this.ttlMs && age >= -60_000)) return { state: 'stale' };
    if (epoch === this.epoch) return { state: 'current' };
    const slot = nonceWorker(epoch);
    if (slot !== undefined && this.siblings && slot !== nonceWorker(this.epoch)) return { state: 'sibling', slot };
    return { state: 'stale' };
  }

  /** Counts one use (nonce, nc) in this process's table: false when that count was used already. */
  private count(nonce: string, nc: number): boolean {
    const seen = this.used.get(nonce);
    if (seen && nc <= seen.nc) return false;
    this.used.set(nonce, { nc, expires: this.now() + this.ttlMs });
    this.sweep();
    return true;
  }

  /**
   * Asked by a sibling worker (through the primary) for a nonce this worker issued: counts the use
   * here. The sibling has checked the response; this checks the signature, epoch and lifetime again.
   */
  consume(nonce: string, nc: number): 'ok' | 'replayed' | 'stale' {
    if (!Number.isSafeInteger(nc) || nc < 0) return 'replayed';
    if (this.nonceState(nonce).state !== 'current') return 'stale';
    return this.count(nonce, nc) ? 'ok' : 'replayed';
  }

  /**
   * Checks a Digest Authorization against an account. `requestUri` is the request target as
   * the transport received it; the digest `uri` must name the same resource.
   */
  verify(f: DigestFields, method: string, requestUri: string, account: Account | undefined): DigestVerdict | Promise<DigestVerdict> {
    if (!f.username || !f.nonce || !f.uri || !f.response || !f.nc || !f.cnonce) return { ok: false, reason: 'malformed' };
    if (f.qop !== 'auth') return { ok: false, reason: 'malformed' };
    if (f.realm !== this.realm) return { ok: false, reason: 'wrong-realm' };
    // Only the algorithms challenges() offers.
    const alg = parseDigestAlgorithm(f.algorithm);
    if (alg !== 'MD5' && alg !== 'SHA-256') return { ok: false, reason: 'malformed' };
    if (!/^[0-9a-fA-F]{8}$/.test(f.nc)) return { ok: false, reason: 'malformed' };
    if (stripQuery(f.uri) !== stripQuery(requestUri)) return { ok: false, reason: 'wrong-uri' };
    if (!account) return { ok: false, reason: 'unknown-user' };
    // RFC 7616 §3.3 (stale): "only … if the nonce is invalid and the response is valid for that
    // nonce", so a phone with a wrong password is asked again rather than told to retry.
    if (!verifyDigestResponse(f, method, { ha1: alg === 'MD5' ? account.ha1Md5 : account.ha1Sha256 })) return { ok: false, reason: 'bad-response' };
    const state = this.nonceState(f.nonce);
    // Only a correct response consumes the count, so a forger cannot burn a phone's nonce.
    const nc = parseInt(f.nc, 16);
    const user = f.username;
    if (state.state === 'sibling') {
      return this.siblings!.consume(state.slot, f.nonce, nc).then(
        (v): DigestVerdict => (v === 'ok' ? { ok: true, user } : { ok: false, reason: v }),
        (): DigestVerdict => ({ ok: false, reason: 'stale' }),
      );
    }
    if (state.state !== 'current') return { ok: false, reason: 'stale' };
    if (!this.count(f.nonce, nc)) return { ok: false, reason: 'replayed' };
    return { ok: true, user };
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 10_000) return;
    this.lastSweep = now;
    for (const [k, v] of this.used) if (v.expires < now) this.used.delete(k);
  }
}

/** A random epoch; under `serve --workers N` prefixed with this worker's slot (`w0-`, `w1-` …). */
export function newEpoch(role = workerRole()): string {
  const rnd = randomBytes(8).toString('hex');
  return role ? `w${role.slot}-${rnd}` : rnd;
}

/** The worker slot a nonce names (for logs and tests); undefined for a single process's nonce. */
export function nonceWorker(nonce: string): number | undefined {
  const m = /^w(\d+)-/.exec(nonce);
  return m ? Number(m[1]) : undefined;
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
