// The primary of `serve --workers N` (issue 16, One machine, every core). It opens no store and
// serves no phone: it forks N workers (src/cluster/worker.ts) through node:cluster, which shares
// the HTTP, HTTPS, FTP and FTPS listening sockets among them: every worker accepts on the one
// listening socket itself, as nginx's workers do (SCHED_NONE; issue 16, Speed: node's round-robin,
// where the primary accepts each connection and passes it to a worker over IPC, cost ~100-400 µs of
// CPU per connection on 2 cores and kept a new connection per request under 0.3× nginx;
// NODE_CLUSTER_SCHED_POLICY=rr brings it back). A busy worker is not waiting in epoll, so an idle
// one takes the next connection: phones' short connections go to whoever is free. FTP passive
// data sockets and TFTP's UDP sockets are bound `exclusive` in the worker that uses them, so a
// passive connection reaches the worker holding its control connection, and TFTP (one worker,
// with the admin listener: the holder, solo-role.ts) keeps each transfer in the process that runs it.
// Worker 0 starts first and alone (it creates the store's schema, the digest secret and the
// secret key on a fresh data directory), then the others. A worker that dies is forked again into
// its slot after a backoff (100 ms doubling to 5 s; reset after 10 s of life); the primary never
// exits on a worker's fault. Only worker 0 failing at the very start is the start's failure (its
// error, exit 3, exactly as a single process reports it).
// Digest nonces: a worker given a sibling's nonce asks the issuer through the primary (nonce? /
// nonce!, digest-auth.ts); a slot without a live worker answers stale at once.
// HTTPS: the primary draws one set of TLS session ticket keys and gives it to every worker over
// IPC (never the environment or a file), so a session resumes on any worker. TLS session IDs
// (clients that send no ticket): one cache here, bounded in entries, bytes and age (the listeners'
// session timeout), which workers fill (`tls+`) and ask (`tls?`, tls-session-relay.ts); and one
// sessionIdContext base for all, so a session from one worker is accepted by the others.
// TFTP and the admin listener: worker 0 opens them at the start; when the worker holding them dies,
// a serving survivor opens them at once (`solo`), on the ports the first holder got (soloPorts), so
// losing any one worker leaves both answering (solo-role.ts says why a handover, not every worker);
// one other serving worker, the standby, has their code loaded and the admin app built beforehand.
// Metrics: each worker sends its counters when they change; the primary keeps the latest of each,
// adds a dead worker's last counters to `retired` (so sums never go back), and sends the holder,
// whose admin listener renders /metrics, the sum of all but its own.
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mergeSnapshots, type MetricsSnapshot } from '../core/metrics.ts';
import type { Logger } from '../log.ts';
import { parseHostPort, type ServerOptions } from '../options.ts';
import type { Listening, SoloAt } from '../server.ts';
import { TlsSessionCache } from '../util/tls-session-cache.ts';
import { WORKER_COUNT_ENV, WORKER_SLOT_ENV } from '../util/worker-role.ts';
import { WORKER_OPTIONS_ENV, type FromWorker, type ToWorker } from './messages.ts';
import { SoloRole } from './solo-role.ts';

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
/** A worker that could not open TFTP and the admin listener it was handed: the next try, this much later. */
const SOLO_RETRY_MS = 1000;

interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
  /** Its worker said ready (serves), and is not gone. */
  ready: boolean;
}

export async function startCluster(options: Readonly<ServerOptions>, count: number, log: Logger): Promise<ClusterServer> {
  if (process.env.NODE_CLUSTER_SCHED_POLICY !== 'rr') cluster.schedulingPolicy = cluster.SCHED_NONE; // before the first fork
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-entry.mjs', import.meta.url)), args: [] });
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, startedAt: 0, failures: 0, ready: false }));
  const solo = new SoloRole();
  let soloRetry: NodeJS.Timeout | undefined;
  const latest = new Map<number, MetricsSnapshot>();
  let retired: MetricsSnapshot | undefined;
  let closing = false;
  const optionsJson = JSON.stringify(options);
  // One set of TLS session ticket keys for every worker (and every restart), in memory only.
  const ticketKeys = randomBytes(48).toString('hex');
  const sessionIdContext = randomBytes(16).toString('hex');
  const tlsSessions = new TlsSessionCache();
  /** Where the holder opens TFTP and the admin listener: once the first listened, the ports it got. */
  let soloAt: SoloAt = soloPorts(options, []);

  const sendOthers = () => {
    const h = solo.holder;
    const w = h === undefined ? undefined : slots[h]!.worker;
    if (!w || !w.isConnected()) return;
    const others = mergeSnapshots([retired, ...[...latest].filter(([slot]) => slot !== h).map(([, s]) => s)]);
    w.send({ t: 'others', snapshot: others } satisfies ToWorker);
  };
  /** Neither TFTP nor the admin listener configured: nothing to hand over or prepare. */
  const hasSolo = () => soloAt.tftp !== undefined || soloAt.admin !== undefined;
  const serving = () => slots.filter((s) => s.ready && s.worker?.isConnected()).map((s) => s.index);
  /** A serving worker other than the holder prepares to take over (when there is no standby yet). */
  const warmStandby = () => {
    const s = closing || !hasSolo() ? undefined : solo.nextStandby(serving());
    if (s !== undefined) slots[s]!.worker!.send({ t: 'standby' } satisfies ToWorker);
  };
  /** Hands TFTP and the admin listener to `slot` (a serving worker): its metrics first, then `solo`. */
  const handTo = (slot: number | undefined, why: string) => {
    if (slot === undefined || closing || !hasSolo()) return;
    log.warn({ worker: slot }, `worker ${slot} takes over TFTP and the admin listener (${why})`);
    sendOthers();
    slots[slot]!.worker!.send({ t: 'solo', at: soloAt } satisfies ToWorker);
    warmStandby();
  };

  /** Forks the slot's worker; resolves with its first word (ready or failed) or its early exit. */
  const fork = (slot: Slot): Promise<FromWorker | { t: 'exit'; code: number | null; signal: string | null }> =>
    new Promise((resolveFirst) => {
      const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index), [WORKER_COUNT_ENV]: String(count), [WORKER_OPTIONS_ENV]: optionsJson });
      slot.worker = worker;
      slot.startedAt = Date.now();
      slot.ready = false;
      let first = true;
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'hello') {
          // It opens TFTP and the admin listener as it starts when no worker holds them.
          worker.send({ t: 'init', ticketKeys, sessionIdContext, ...(!closing && solo.atStart(slot.index) ? { solo: soloAt } : {}) } satisfies ToWorker);
          return;
        }
        if (m.t === 'solo!') {
          log.info({ worker: slot.index, listening: m.listening }, `worker ${slot.index} holds TFTP and the admin listener`);
          return;
        }
        if (m.t === 'solo-failed') {
          // Tried again (on any serving worker) a moment later; meanwhile they are down.
          log.error({ worker: slot.index }, `worker ${slot.index} could not open TFTP and the admin listener: ${m.text}`);
          solo.release(slot.index, []);
          clearTimeout(soloRetry);
          soloRetry = setTimeout(() => handTo(solo.offer(serving()), `worker ${slot.index} could not`), SOLO_RETRY_MS);
          return;
        }
        // Session data is key material: kept and passed on, never logged.
        if (m.t === 'tls+') return void tlsSessions.put(m.key, Buffer.from(m.data, 'base64'));
        if (m.t === 'tls?') {
          const data = tlsSessions.get(m.key);
          if (worker.isConnected()) worker.send({ t: 'tls!', id: m.id, ...(data ? { data: data.toString('base64') } : {}) } satisfies ToWorker);
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
          if (slot.index !== solo.holder) sendOthers();
          return;
        }
        if (m.t === 'ready') {
          slot.ready = true;
          if (slot.index === solo.holder) sendOthers();
          // None holds them (the holder died while no other worker served): a serving worker takes them.
          else handTo(solo.offer(serving()), 'no worker held them');
          warmStandby();
        }
        if (m.t === 'failed' && !first) log.error({ worker: slot.index, code: m.code }, `worker ${slot.index} could not start: ${m.text}`);
        if (first) {
          first = false;
          resolveFirst(m);
        }
      });
      worker.on('error', (err) => log.warn({ worker: slot.index, err: err.message }, 'worker channel error'));
      // Gone once both dead and disconnected: node:cluster has then closed the shared listening
      // sockets this worker alone held (the admin port's), so the next holder can open them again.
      let gone = false;
      const whenGone = () => {
        if (gone || !worker.isDead() || worker.isConnected()) return;
        gone = true;
        slot.ready = false;
        handTo(solo.release(slot.index, serving()), `worker ${slot.index} is gone`);
        warmStandby();
      };
      worker.on('disconnect', whenGone);
      worker.on('exit', (code, signal) => {
        whenGone();
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
    clearTimeout(soloRetry);
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
  soloAt = soloPorts(options, first.listening);
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
 * Where the holder opens TFTP and the admin listener (those configured). Their sockets close with
 * the holder, so the next holder given port 0 would get other ports: once the first holder
 * listened (`listening`), the ports it got.
 */
function soloPorts(options: Readonly<ServerOptions>, listening: readonly Listening[]): SoloAt {
  const out: SoloAt = {};
  for (const t of ['tftp', 'admin'] as const) {
    const given = options[t];
    if (!given) continue;
    const l = parseHostPort(given, t).port === 0 ? listening.find((x) => x.transport === t) : undefined;
    out[t] = l ? `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}` : given;
  }
  return out;
}
