// Step 1, admit: may this request be considered at all? Path safety (paths.ts: `..`, double
// encoding, control characters … are refused before anything looks at the tree), the address
// allow-list and the per-address rate limit, all compiled once at start-up so a request only
// looks things up.
import type { BlockList } from 'node:net';
import { ProvError } from '../errors.ts';
import type { ServerOptions } from '../options.ts';
import { compileCidrs, inList, RateLimiter } from './address-policy.ts';
import type { RequestContext } from './context.ts';
import { normaliseRequestPath, splitPath } from './paths.ts';

export class Admission {
  private readonly allow: BlockList | undefined;
  private readonly rate: RateLimiter;
  private readonly perSec: number;

  constructor(o: Readonly<ServerOptions>) {
    this.allow = compileCidrs(o.allow, 'allow');
    this.rate = new RateLimiter(o.rateLimitPerSec, o.rateLimitBurst);
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
