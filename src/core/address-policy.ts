// Who may talk to the boot server at all: CIDR allow-lists and a token bucket per source
// address. Compiled once at start-up into net.BlockList objects, so a request only looks up.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ProvError } from '../errors.ts';
import { plainAddress } from '../util/address.ts';

export function compileCidrs(cidrs: readonly string[], what: string): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bitsText] = c.split('/');
    const type = isIPv4(net ?? '') ? 'ipv4' : isIPv6(net ?? '') ? 'ipv6' : undefined;
    const bits = bitsText === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bitsText);
    if (!type || !Number.isInteger(bits) || bits < 0 || bits > (type === 'ipv4' ? 32 : 128)) {
      throw new ProvError('PP_OPT_INVALID', `${what}: "${c}" is not an address or CIDR`, { hint: 'Write 10.0.0.0/8 or 2001:db8::/32.' });
    }
    list.addSubnet(net!, bits, type);
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
