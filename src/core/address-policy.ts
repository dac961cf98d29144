// Who may talk to the boot server at all: CIDR allow-lists and a token bucket per source
// address. Compiled once at start-up into net.BlockList objects, so a request only looks up.
import { BlockList, isIPv4 } from 'node:net';
import { ProvError } from '../errors.ts';
import { parseCidr, plainAddress } from '../util/address.ts';

export function compileCidrs(cidrs: readonly string[], what: string): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    // loadServerOptions refused what parseCidr refuses; options built by hand (tests) meet it here.
    const p = parseCidr(c);
    if (!p) throw new ProvError('PP_OPT_INVALID', `${what}: "${c}" is not an address or CIDR`, { hint: 'Write 10.0.0.0/8 or 2001:db8::/32.' });
    list.addSubnet(p.net, p.bits, p.type);
  }
  return list;
}

export function inList(list: BlockList | undefined, address: string): boolean {
  if (!list) return false;
  const a = plainAddress(address);
  return list.check(a, isIPv4(a) ? 'ipv4' : 'ipv6');
}

/** Token bucket per address. Idle buckets are swept so the map stays bounded by active sources. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(address: string): boolean {
    const t = this.now();
    let b = this.buckets.get(address);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(address, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSec);
      b.at = t;
    }
    if (t - this.lastSweep > 60_000) this.sweep(t);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private sweep(t: number): void {
    this.lastSweep = t;
    const full = (this.burst / this.perSec) * 1000;
    for (const [k, b] of this.buckets) if (t - b.at > full) this.buckets.delete(k);
  }
}
