// Authentication of REST API requests (issue 15 "Who may do what"): `Authorization: Bearer ppt_…`
// checked through the admin service's tokens (only hashes are stored). A source address that fails
// too often is refused with 429 for a while, and every failure is logged in the same fixed,
// fail2ban-friendly form as the boot server's refusals (`refused PP_AUTH_FAILED from ADDR`,
// contrib/fail2ban/polyprov.conf), never with the token sent.
import type { ApiToken } from '../domain.ts';

/** The bearer value of an Authorization header, or undefined when there is none of that scheme. */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface FailureLimitOptions {
  /** Failures per source address within `windowMs` after which it gets 429. */
  maxFailures: number;
  windowMs: number;
  /** Most addresses tracked at once (the oldest are dropped beyond it). */
  maxAddresses?: number;
  now?: () => number;
}

/**
 * Failed authentications per source address in a sliding window. `blocked(addr)` gives the
 * seconds to wait (for Retry-After) when the address has failed `maxFailures` times within the
 * window, else 0. Memory is bounded: at most `maxAddresses` addresses × `maxFailures` times.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly maxAddresses: number;

  constructor(private readonly opts: FailureLimitOptions) {
    this.now = opts.now ?? (() => Date.now());
    this.maxAddresses = opts.maxAddresses ?? 10_000;
  }

  private recent(addr: string): number[] {
    const list = this.failures.get(addr);
    if (!list) return [];
    const since = this.now() - this.opts.windowMs;
    while (list.length > 0 && list[0]! <= since) list.shift();
    if (list.length === 0) this.failures.delete(addr);
    return list;
  }

  /** Seconds until the address may try again, 0 when it may now. */
  blocked(addr: string): number {
    const list = this.recent(addr);
    if (list.length < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.opts.windowMs - this.now()) / 1000));
  }

  fail(addr: string): void {
    let list = this.failures.get(addr);
    if (!list) {
      if (this.failures.size >= this.maxAddresses) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      list = [];
      this.failures.set(addr, list);
    }
    list.push(this.now());
    if (list.length > this.opts.maxFailures) list.shift();
  }
}

/** What authenticating a request gave: the token, or why not. */
export type AuthOutcome = { ok: true; token: ApiToken } | { ok: false; code: 'PP_AUTH_REQUIRED' | 'PP_AUTH_FAILED' | 'PP_RATE_LIMITED'; retryAfterS?: number };

export interface Authenticator {
  authenticate(bearer: string): Promise<ApiToken | undefined>;
}

/** Authenticates one request from `addr` with its Authorization header, counting failures. */
export async function authenticateRequest(auth: Authenticator, limiter: FailureLimiter, addr: string, header: string | string[] | undefined): Promise<AuthOutcome> {
  const wait = limiter.blocked(addr);
  if (wait > 0) return { ok: false, code: 'PP_RATE_LIMITED', retryAfterS: wait };
  const bearer = bearerOf(header);
  if (bearer === undefined) {
    limiter.fail(addr);
    return { ok: false, code: 'PP_AUTH_REQUIRED' };
  }
  const token = await auth.authenticate(bearer);
  if (!token) {
    limiter.fail(addr);
    return { ok: false, code: 'PP_AUTH_FAILED' };
  }
  return { ok: true, token };
}
