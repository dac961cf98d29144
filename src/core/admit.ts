// Step 1, admit: may this request be considered at all? Path safety (paths.ts: `..`, double
// encoding, control characters … are refused before anything looks at the tree), the address
// allow-list and the per-address rate limit, all compiled once at start-up so a request only
// looks things up.
//
// Under `serve --workers N` (issue 16) each worker keeps its own buckets with 1/N of the rate and of
// the burst, so what one address gets from all workers together never exceeds the configured limit,
// with no message between processes per request (a round trip to the primary per request would
// cost more than the request). The kernel hands connections to workers in turn, so an address
// that floods with many connections meets about the whole limit; one keep-alive connection meets
// its worker's share (200/N per second by default: still far above what a booting phone asks).
import type { BlockList } from 'node:net';
import { ProvError } from '../errors.ts';
import type { ServerOptions } from '../options.ts';
import { workerRole, type WorkerRole } from '../util/worker-role.ts';
import { compileCidrs, inList, RateLimiter } from './address-policy.ts';
import type { RequestContext } from './context.ts';
import { normaliseRequestPath, splitPath } from './paths.ts';

export class Admission {
  private readonly allow: BlockList | undefined;
  private readonly rate: RateLimiter;
  private readonly perSec: number;

  constructor(o: Readonly<ServerOptions>, role: WorkerRole | undefined = workerRole()) {
    this.allow = compileCidrs(o.allow, 'allow');
    const share = rateShare(o, role);
    this.rate = new RateLimiter(share.perSec, share.burst);
    this.perSec = o.rateLimitPerSec;
  }

  /** Sets the context's path; returns the refusal, if any (the path is kept short for the record). */
  admit(ctx: RequestContext): ProvError | undefined {
    try {
      ctx.rel = normaliseRequestPath(ctx.req.path);
    } catch (e) {
      ctx.rel = ctx.req.path.slice(0, 200);
      return e as ProvError;
    }
    ctx.base = splitPath(ctx.rel).base;
    const address = ctx.address;
    if (this.allow && !inList(this.allow, address)) return new ProvError('PP_ADDRESS_DENIED', `address ${address} is not in the allow-list`);
    if (!this.rate.take(address)) return new ProvError('PP_RATE_LIMITED', `more than ${this.perSec} requests/s from ${address}`);
    return undefined;
  }
}

/** This process's share of the per-address rate limit: all of it alone, 1/N of it as one of N workers. */
export function rateShare(o: Pick<ServerOptions, 'rateLimitPerSec' | 'rateLimitBurst'>, role: WorkerRole | undefined): { perSec: number; burst: number } {
  const n = role?.count ?? 1;
  return { perSec: o.rateLimitPerSec / n, burst: Math.max(1, Math.floor(o.rateLimitBurst / n)) };
}
