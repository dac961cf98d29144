// What the `serve --workers N` primary and its workers say to each other over the cluster IPC
// channel (issue 16, One machine, every core). Plain JSON: no per-request message ever crosses it.
import type { MetricsSnapshot } from '../core/metrics.ts';
import type { Listening } from '../server.ts';

export type FromWorker =
  /** The worker listens; worker 0's list holds every listener (it alone opens TFTP and admin). */
  | { t: 'ready'; listening: Listening[]; warnings: string[] }
  /** The worker could not start: the error as the CLI prints it, its code, then the worker exits. */
  | { t: 'failed'; code?: string; text: string }
  /** This worker's counters, sent when they changed (at most every METRICS_PUSH_MS). */
  | { t: 'metrics'; snapshot: MetricsSnapshot };

export type ToWorker =
  /** To worker 0, which serves /metrics: the sum of every other worker's counters, those of workers gone included. */
  | { t: 'others'; snapshot: MetricsSnapshot }
  /** Close the listeners (in-flight transfers get their grace period) and exit. */
  | { t: 'stop' };

export const METRICS_PUSH_MS = 250;

/** Environment variable carrying the checked ServerOptions (JSON) from the primary to a worker. */
export const WORKER_OPTIONS_ENV = 'POLYPROV_WORKER_OPTIONS';
