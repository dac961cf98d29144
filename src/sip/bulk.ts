// Paced fan-out for fleet-wide check-sync.
//
// Why pace at all: every phone that accepts a check-sync immediately fetches its master file,
// CONFIG_FILES, overrides and directory from the boot server, and reboots when the application
// image or a reboot-only parameter changed (white paper, "Understanding Phone Update
// Behavior"; voIpProt.SIP.specialEvent.checkSync.alwaysReboot). Firing at a whole fleet at once
// is a self-inflicted boot storm: thousands of phones downloading firmware, hitting DHCP and
// re-registering together. The default of 10 NOTIFYs per second turns 1000 phones into a
// 100-second ramp, i.e. roughly 10 boots a second at worst, which one boot server and one
// registrar absorb; raise it deliberately with --rate when you know the infrastructure copes.
//
// Pacing rule: start_i = max(now, start_{i-1} + 1000/rate + U(0, jitter)). Jitter only ever
// lengthens a gap, so any one-second window holds at most ⌊rate⌋ + 1 starts, and the phones'
// fetches do not arrive in lock-step.

export interface BulkOptions {
  /** Starts per second. */
  ratePerSec: number;
  /** Extra random delay per gap, 0..jitterMs. */
  jitterMs: number;
  /** Upper bound on work in flight (TCP connections, pending transactions). */
  maxInFlight: number;
  /** Random source in [0,1); seed it in tests. */
  random?: () => number;
  /** Called when item i starts and when it finishes. */
  onStart?: (i: number, at: number) => void;
  onDone?: (i: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_RATE_PER_SEC = 10;
export const DEFAULT_JITTER_MS = 50;
export const DEFAULT_MAX_IN_FLIGHT = 200;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Runs `work` over `items` at the paced rate; results keep the items' order. */
export async function runPaced<T, R>(items: readonly T[], work: (item: T, i: number) => Promise<R>, opts: BulkOptions): Promise<R[]> {
  const rnd = opts.random ?? Math.random;
  const interval = 1000 / opts.ratePerSec;
  const results = new Array<R>(items.length);
  const running = new Set<Promise<void>>();
  let last = -Infinity;
  for (let i = 0; i < items.length; i++) {
    if (opts.signal?.aborted) break;
    while (running.size >= opts.maxInFlight) await Promise.race(running);
    const due = last + interval + rnd() * opts.jitterMs;
    // Node timers count from the event loop's cached clock and can fire early against the real
    // one, so sleep again until the due time has really passed; the spacing is a promise.
    for (let n = 0; n < 100; n++) {
      const wait = due - performance.now();
      if (wait <= 0) break;
      await sleep(Math.ceil(wait));
    }
    last = performance.now();
    opts.onStart?.(i, Date.now());
    const p: Promise<void> = work(items[i]!, i).then(
      (r) => {
        results[i] = r;
      },
      (err: unknown) => {
        // work() reports failures in its result; a throw here is a bug, kept visible.
        throw err;
      },
    ).finally(() => {
      running.delete(p);
      opts.onDone?.(i);
    });
    running.add(p);
  }
  await Promise.all(running);
  return results;
}

/** Parses `10`, `10/s`, `600/min`. Undefined when not a positive rate. */
export function parseRate(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const per = m[2] && m[2].toLowerCase().startsWith('m') ? n / 60 : n;
  return per > 0 && Number.isFinite(per) ? per : undefined;
}
