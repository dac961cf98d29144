// One worker process of `serve --workers N` (issue 16, One machine, every core): the options the
// primary checked (from the environment), then startServer with this worker's part — every worker
// the shared HTTP/HTTPS/FTP/FTPS listeners; the holder (worker 0 at the start, a survivor when the
// holder died: solo-role.ts) also TFTP and the admin listener, whose /metrics is this worker's
// counters plus the sum of the others' that the primary sends it. Sends
// its own counters to the primary when they change; counts the uses of its Digest nonces that
// sibling workers received, and asks the issuer of a sibling's nonce to count one (digest-auth.ts);
// its HTTPS and FTPS listeners keep and find TLS sessions by ID in the primary's cache
// (tls-session-relay.ts). SIGINT is the primary's to handle (a terminal's Ctrl-C reaches the whole
// group); `stop` or SIGTERM close the listeners with their grace period.
import { mergeSnapshots, renderSnapshot, type MetricsSnapshot } from '../core/metrics.ts';
import { createLogger } from '../log.ts';
import type { ServerOptions } from '../options.ts';
import { startServer, type RunningServer, type SoloAt } from '../server.ts';
import { workerRole } from '../util/worker-role.ts';
import { Asks } from './asks.ts';
import { METRICS_PUSH_MS, NONCE_ASK_TIMEOUT_MS, WORKER_OPTIONS_ENV, type FromWorker, type NonceVerdict, type ToWorker } from './messages.ts';
import { TlsSessionRelay } from './tls-session-relay.ts';

const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

async function run(): Promise<void> {
  const role = workerRole();
  if (!role || !process.send) throw new Error('src/cluster/worker.ts runs only as a worker forked by serve --workers N');
  const options = Object.freeze(JSON.parse(process.env[WORKER_OPTIONS_ENV] ?? '{}') as ServerOptions);
  const log = createLogger(options.logLevel).child({ worker: role.slot });
  let others: MetricsSnapshot | undefined;
  let server: RunningServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(pushTimer);
      if (server) {
        send({ t: 'metrics', snapshot: server.core.metrics.snapshot() });
        await server.close();
      }
      process.exit(0);
    })());
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop());
  // Digest nonces of sibling workers: asked of their issuer through the primary (digest-auth.ts).
  const nonceAsks = new Asks<NonceVerdict>('stale', NONCE_ASK_TIMEOUT_MS);
  const siblings = {
    consume: (slot: number, nonce: string, nc: number) => nonceAsks.ask(process.connected, (id) => send({ t: 'nonce?', id, slot, nonce, nc })),
  };
  const tlsSessions = new TlsSessionRelay(send, () => process.connected);
  type Init = { ticketKeys: Buffer; sessionIdContext: string; solo?: SoloAt };
  let init: (m: Init) => void = () => {};
  const initial = new Promise<Init>((resolve) => (init = resolve));
  process.on('message', (m: ToWorker) => {
    if (m.t === 'tls!') tlsSessions.answer(m.id, m.data);
    else if (m.t === 'init') init({ ticketKeys: Buffer.from(m.ticketKeys, 'hex'), sessionIdContext: m.sessionIdContext, ...(m.solo ? { solo: m.solo } : {}) });
    else if (m.t === 'others') others = m.snapshot;
    else if (m.t === 'solo') {
      // The holder died: open TFTP and the admin listener here, now (the primary sends this only once this worker serves).
      const opening = server ? server.openSolo(m.at) : Promise.reject(new Error('this worker has not started'));
      opening.then(
        (listening) => send({ t: 'solo!', listening }),
        (err: Error) => send({ t: 'solo-failed', text: err.message }),
      );
    } else if (m.t === 'standby') {
      // The next holder: their code loaded and the admin app built now, so a handover only binds.
      server?.prepareSolo().catch((err: Error) => log.warn({ err: err.message }, 'could not prepare TFTP and the admin listener'));
    } else if (m.t === 'stop') void stop();
    else if (m.t === 'nonce?') send({ t: 'nonce!', id: m.id, from: m.from, verdict: server ? server.core.digest.consume(m.nonce, m.nc) : 'stale' });
    else if (m.t === 'nonce!') nonceAsks.answer(m.id, m.verdict);
  });
  send({ t: 'hello' });
  let last = '';
  const pushTimer = setInterval(() => {
    if (!server) return;
    const snapshot = server.core.metrics.snapshot();
    const text = JSON.stringify(snapshot);
    if (text === last) return;
    last = text;
    send({ t: 'metrics', snapshot });
  }, METRICS_PUSH_MS);
  pushTimer.unref();
  try {
    const { ticketKeys, sessionIdContext, solo } = await initial;
    server = await startServer({ ...options, ...solo }, log, {
      ...role,
      ticketKeys,
      tlsSessions,
      sessionIdContext,
      tftp: solo !== undefined,
      admin: solo !== undefined,
      metrics: () => renderSnapshot(mergeSnapshots([server?.core.metrics.snapshot(), others])),
    });
  } catch (err) {
    const e = err as { code?: string; format?: () => string; message?: string };
    const m: FromWorker = { t: 'failed', ...(typeof e.code === 'string' ? { code: e.code } : {}), text: typeof e.format === 'function' ? e.format() : (e.message ?? String(err)) };
    // Exit once the message has left.
    process.send!(m, undefined, {}, () => process.exit(3));
    return;
  }
  server.core.digest.siblings = siblings;
  send({ t: 'ready', listening: server.listening, warnings: server.warnings });
}

void run().catch((err: unknown) => {
  process.stderr.write(`polyprov worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(3);
});
