// What the benchmarks share to measure with: wrk's report read into numbers (requests per second,
// p99, errors), a loopback port waited for until the server under test listens, and a median.
import { connect } from 'node:net';

export interface WrkReport {
  rps: number;
  requests: number;
  p99ms: number;
  /** Socket errors of every kind plus non-2xx/3xx answers. */
  errors: number;
  connectErrors: number;
}

/** Reads wrk's `--latency` report (its standard output). */
export function parseWrk(out: string): WrkReport {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (se ? Number(se[1]) + Number(se[2]) + Number(se[3]) + Number(se[4]) : 0) + non2xx;
  return { rps, requests, p99ms, errors, connectErrors: se ? Number(se[1]) : 0 };
}

/** Resolves once 127.0.0.1:`port` accepts a connection, trying every `stepMs`; rejects after `ms`. */
export function waitPort(port: number, ms = 30_000, stepMs = 100): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => (Date.now() > until ? reject(new Error(`port ${port} never opened`)) : setTimeout(tryOnce, stepMs)));
    };
    tryOnce();
  });
}

/** The median (NaN of nothing). */
export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a.length === 0 ? NaN : a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
}
