// The primary of `serve --workers N` (issue 16, One machine, every core). It opens no store and
// serves no phone: it forks N workers (src/cluster/worker.ts) through node:cluster, which shares
// the HTTP, HTTPS, FTP and FTPS listening sockets among them (round-robin on Linux: the primary
// accepts and hands each connection to the next worker). FTP passive data sockets and TFTP's UDP
// sockets are bound `exclusive` in the worker that uses them, so a passive connection reaches the
// worker holding its control connection, and TFTP (worker 0 only, with the admin listener) keeps
// each transfer in the process that runs it.
// Worker 0 starts first and alone (it creates the store's schema, the digest secret and the
// secret key on a fresh data directory), then the others. A worker that dies is forked again into
// its slot after a backoff (100 ms doubling to 5 s; reset after 10 s of life); the primary never
// exits on a worker's fault. Only worker 0 failing at the very start is the start's failure (its
// error, exit 3, exactly as a single process reports it).
// Digest nonces: a worker given a sibling's nonce asks the issuer through the primary (nonce? /
// nonce!, digest-auth.ts); a slot without a live worker answers stale at once.
// HTTPS: the primary draws one set of TLS session ticket keys and gives it to every worker over
// IPC (never the environment or a file), so a session resumes on any worker.
// A restarted worker 0 opens TFTP and the admin listener on the ports the first one got (soloPorts).
// Metrics: each worker sends its counters when they change; the primary keeps the latest of each,
// adds a dead worker's last counters to `retired` (so sums never go back), and sends worker 0,
// whose admin listener renders /metrics, the sum of all but its own.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mergeSnapshots, type MetricsSnapshot } from '../core/metrics.ts';
import type { Logger } from '../log.ts';
import { parseHostPort, type ServerOptions } from '../options.ts';
import type { Listening } from '../server.ts';
import { WORKER_COUNT_ENV, WORKER_SLOT_ENV } from '../util/worker-role.ts';
import { WORKER_OPTIONS_ENV, type FromWorker, type ToWorker } from './messages.ts';

export interface ClusterServer {
  listening: Listening[];
  warnings: string[];
  /** The live workers, by slot (for logs and tests). */
  workers(): { slot: number; pid: number }[];
  /** Stops every worker (each closes its listeners with their grace period) and waits for them. */
  close(): Promise<void>;
}

/** A worker 0 that could not start: its error exactly as the CLI prints it. */
class WorkerStartError extends Error {
  constructor(
    readonly code: string | undefined,
    private readonly text: string,
  ) {
    super(text);
  }
  format(): string {
    return this.text;
  }
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
const HEALTHY_AFTER_MS = 10_000;
const STOP_GRACE_MS = 10_000;

interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

export async function startCluster(options: Readonly<ServerOptions>, count: number, log: Logger): Promise<ClusterServer> {
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-entry.mjs', import.meta.url)), args: [] });
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, startedAt: 0, failures: 0 }));
  const latest = new Map<number, MetricsSnapshot>();
  let retired: MetricsSnapshot | undefined;
  let closing = false;
  const optionsJson = JSON.stringify(options);
  // One set of TLS session ticket keys for every worker (and every restart), in memory only.
  const ticketKeys = randomBytes(48).toString('hex');
  /** Worker 0's options: once it listened, its own listeners given as port 0 take the ports it got. */
  let soloJson = optionsJson;

  const sendOthers = () => {
    const w0 = slots[0]!.worker;
    if (!w0 || !w0.isConnected()) return;
    const others = mergeSnapshots([retired, ...[...latest].filter(([slot]) => slot !== 0).map(([, s]) => s)]);
    w0.send({ t: 'others', snapshot: others } satisfies ToWorker);
  };

  /** Forks the slot's worker; resolves with its first word (ready or failed) or its early exit. */
  const fork = (slot: Slot): Promise<FromWorker | { t: 'exit'; code: number | null; signal: string | null }> =>
    new Promise((resolveFirst) => {
      const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index), [WORKER_COUNT_ENV]: String(count), [WORKER_OPTIONS_ENV]: slot.index === 0 ? soloJson : optionsJson });
      slot.worker = worker;
      slot.startedAt = Date.now();
      let first = true;
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'hello') {
          worker.send({ t: 'init', ticketKeys } satisfies ToWorker);
          return;
        }
        if (m.t === 'nonce?') {
          // Pass it to the issuing worker; a slot with no live worker: its nonces are stale.
          const issuer = slots[m.slot]?.worker;
          if (issuer && issuer.isConnected()) issuer.send({ t: 'nonce?', id: m.id, from: slot.index, nonce: m.nonce, nc: m.nc } satisfies ToWorker);
          else if (worker.isConnected()) worker.send({ t: 'nonce!', id: m.id, verdict: 'stale' } satisfies ToWorker);
          return;
        }
        if (m.t === 'nonce!') {
          const asker = slots[m.from]?.worker;
          if (asker && asker.isConnected()) asker.send({ t: 'nonce!', id: m.id, verdict: m.verdict } satisfies ToWorker);
          return;
        }
        if (m.t === 'metrics') {
          latest.set(slot.index, m.snapshot);
          if (slot.index !== 0) sendOthers();
          return;
        }
        if (m.t === 'ready' && slot.index === 0) sendOthers();
        if (m.t === 'failed' && !first) log.error({ worker: slot.index, code: m.code }, `worker ${slot.index} could not start: ${m.text}`);
        if (first) {
          first = false;
          resolveFirst(m);
        }
      });
      worker.on('error', (err) => log.warn({ worker: slot.index, err: err.message }, 'worker channel error'));
      worker.on('exit', (code, signal) => {
        if (slot.worker === worker) slot.worker = undefined;
        // Its counters so far stay in the sums.
        const last = latest.get(slot.index);
        if (last) {
          retired = mergeSnapshots([retired, { ...last, active: 0 }]);
          latest.delete(slot.index);
          sendOthers();
        }
        if (first) {
          first = false;
          resolveFirst({ t: 'exit', code, signal });
        }
        if (closing) return;
        const lived = Date.now() - slot.startedAt;
        slot.failures = lived >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, slot.failures - 1));
        log.warn({ worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delay }, `worker ${slot.index} exited (${signal ?? `code ${code}`}); restarting it in ${delay} ms`);
        slot.timer = setTimeout(() => {
          slot.timer = undefined;
          if (!closing) void fork(slot);
        }, delay);
      });
    });

  const stopAll = async () => {
    closing = true;
    for (const s of slots) if (s.timer) clearTimeout(s.timer);
    await Promise.all(
      slots.map(async (s) => {
        const w = s.worker;
        if (!w || w.isDead()) return;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        if (w.isConnected()) w.send({ t: 'stop' } satisfies ToWorker);
        else w.process.kill('SIGTERM');
        const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  };

  const first = await fork(slots[0]!);
  if (first.t !== 'ready') {
    await stopAll();
    if (first.t === 'failed') throw new WorkerStartError(first.code, first.text);
    throw new WorkerStartError(undefined, `worker 0 exited before listening (${'signal' in first && first.signal ? first.signal : `code ${'code' in first ? first.code : '?'}`})`);
  }
  soloJson = JSON.stringify({ ...options, ...soloPorts(options, first.listening) });
  const rest = await Promise.all(slots.slice(1).map((s) => fork(s)));
  rest.forEach((r, i) => {
    if (r.t !== 'ready') log.warn({ worker: i + 1 }, `worker ${i + 1} did not start; it is restarted with backoff`);
  });
  let closed: Promise<void> | undefined;
  return {
    listening: first.listening,
    warnings: first.warnings,
    workers: () => slots.filter((s) => s.worker?.process.pid !== undefined).map((s) => ({ slot: s.index, pid: s.worker!.process.pid! })),
    close: () => (closed ??= stopAll()),
  };
}

/**
 * TFTP and the admin listener are worker 0's alone: when it dies their sockets close with it, so a
 * restarted worker 0 given port 0 would get other ports. It gets the ports the first one got. (The
 * shared listeners stay open in the primary while any worker holds them.)
 */
function soloPorts(options: Readonly<ServerOptions>, listening: readonly Listening[]): Partial<ServerOptions> {
  const out: Partial<ServerOptions> = {};
  for (const t of ['tftp', 'admin'] as const) {
    const given = options[t];
    if (!given || parseHostPort(given, t).port !== 0) continue;
    const l = listening.find((x) => x.transport === t);
    if (l) out[t] = `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
  }
  return out;
}
