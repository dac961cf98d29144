// Token bucket per source address for the DHCP responder. UDP sources are trivially spoofed,
// so the table has a hard cap: when full, the stalest entries go first (a Map iterates in
// insertion order and an entry is re-inserted on every use).

export interface RateDecision {
  allowed: boolean;
  /** True on the first refusal after a run of allowed packets: log once per episode, not per packet. */
  firstRefusal: boolean;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; refusing: boolean }>();

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly maxSources = 4096,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perSec > 0) || !(burst >= 1)) throw new RangeError('rate limit needs perSec > 0 and burst >= 1');
  }

  take(address: string): RateDecision {
    const t = this.now();
    let b = this.buckets.get(address);
    if (b) {
      this.buckets.delete(address);
      b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.perSec);
      b.at = t;
    } else {
      b = { tokens: this.burst, at: t, refusing: false };
      while (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(address, b);
    if (b.tokens < 1) {
      const firstRefusal = !b.refusing;
      b.refusing = true;
      return { allowed: false, firstRefusal };
    }
    b.tokens -= 1;
    b.refusing = false;
    return { allowed: true, firstRefusal: false };
  }

  get size(): number {
    return this.buckets.size;
  }
}
