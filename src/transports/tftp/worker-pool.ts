// Main-thread side of the read workers (read-worker.ts): picks the least busy worker for a
// transfer, feeds it the content stream on request, and relays the session's end and close.
// Run from the sources, workers load TypeScript through tsx's loader, registered inside each worker,
// because a loader registered with tsx/esm/api on the main thread does not reach worker threads;
// compiled (dist/, scripts/build.mjs), they run read-worker.js with no loader.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Framer } from './block-reader.ts';
import type { FromWorker, ToWorker } from './read-worker.ts';
import type { SharedContent } from './shared-content.ts';
import type { SessionConfig, SessionOutcome } from './session.ts';
import type { Peer } from './transfer-socket.ts';

/**
 * Read-worker threads for TFTP from the machine's one thread budget (issue 16: no oversubscription).
 * `configured` ≥ 0 (the tftpWorkers option) is taken as given. By default, one process alone
 * (`--workers 1`) starts one per core on a host with two or more cores (with 100 transfers at once
 * the main thread alone is the limit: bench tftp 0.78–0.80× atftpd's throughput with none, 0.91×
 * with one per core on 2 cores); N worker processes already hold N cores, so TFTP gets the cores
 * left over, none when every core has a process.
 */
export function tftpThreads(configured: number, cores: number, processes: number): number {
  if (configured >= 0) return configured;
  if (processes <= 1) return cores >= 2 ? cores : 0;
  return Math.max(0, cores - processes);
}

/** Content waiting per session in a worker. 256 KB keeps a 64 × 1468 window fed. */
const HIGH_WATER = 256 * 1024;

/** A read transfer: its content streamed to the worker, or shared (shared-content.ts). */
export interface ReadJob {
  host: string;
  peer: Peer;
  config: SessionConfig;
  stream?: Readable;
  shared?: SharedContent;
  onEnd(outcome: SessionOutcome): void;
  onClose(): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, ReadJob & { credit: number; ended: boolean }>;
  alive: boolean;
  /** Shared content this worker mirrors, by key, with the unsubscribe of its updates. */
  mirrors: Map<string, () => void>;
}

const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})().catch((err) => { console.error(err); process.exit(1); });
`;

/** This module is compiled JavaScript (dist/), not a source run through tsx or vitest. */
const COMPILED = import.meta.url.endsWith('.js');

/** tsx/esm/api's ESM entry: its CommonJS build resolves its loader relative to the wrong folder. */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}

export class ReadWorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;

  constructor(size: number) {
    const tsxApi = COMPILED ? null : tsxEsmApi();
    const entry = new URL(COMPILED ? './read-worker.js' : './read-worker.ts', import.meta.url).href;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(BOOT, { eval: true, workerData: { tsxApi, entry } });
      const slot: Slot = { worker, jobs: new Map(), alive: true, mirrors: new Map() };
      worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
      const dead = (): void => this.onDeath(slot);
      worker.on('error', dead);
      worker.on('exit', dead);
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** False when every worker has died; the caller then runs the session itself. */
  get available(): boolean {
    return this.slots.some((s) => s.alive);
  }

  get alive(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  start(job: ReadJob): { cancel(message: string): void } {
    const slot = this.slots.filter((s) => s.alive).reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
    const id = this.nextId++;
    const entry = { ...job, credit: 0, ended: false };
    slot.jobs.set(id, entry);
    const { oack, ...rest } = job.config;
    if (job.shared) this.mirror(slot, job.shared);
    this.post(slot, {
      t: 'start',
      id,
      host: job.host,
      peer: job.peer,
      cfg: { ...rest, oack: [...(oack ?? [])] },
      highWater: HIGH_WATER,
      shared: job.shared?.key,
    });
    const cancel = { cancel: (message: string) => this.post(slot, { t: 'cancel', id, message }) };
    if (!job.stream) return cancel;
    const stream = job.stream;
    const framer = new Framer(job.config.blksize);
    stream.on('data', (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // Always a copy, then transferred: the stream's own buffer may be a cache the core reuses,
      // and transferring it would detach it. The copy lays the content out as framed DATA
      // datagrams, so the worker sends views of it as they are.
      const framed = framer.push(b);
      if (framed) slot.worker.postMessage({ t: 'data', id, chunk: framed } satisfies ToWorker, [framed.buffer as ArrayBuffer]);
      entry.credit -= b.length;
      if (entry.credit <= 0) stream.pause();
    });
    stream.on('end', () => {
      const last = framer.end();
      if (slot.alive) slot.worker.postMessage({ t: 'data', id, chunk: last } satisfies ToWorker, [last.buffer as ArrayBuffer]);
      this.post(slot, { t: 'eof', id });
    });
    stream.on('error', (err) => this.post(slot, { t: 'srcerr', id, message: err.message }));
    stream.pause();
    return cancel;
  }

  /**
   * The worker gets the shared content once, whatever number of its sessions read it: what is
   * loaded so far, then each chunk as it arrives (SharedArrayBuffers: no copy), until the cache
   * drops the entry.
   */
  private mirror(slot: Slot, entry: SharedContent): void {
    const key = entry.key;
    if (slot.mirrors.has(key)) return;
    this.post(slot, { t: 'share', key, blksize: entry.blksize, chunks: [...entry.chunks], done: entry.done, failure: entry.failure?.message });
    const unsubscribe = entry.subscribe((e) => {
      if ('chunk' in e) this.post(slot, { t: 'shareChunk', key, chunk: e.chunk });
      else if ('end' in e) this.post(slot, { t: 'shareEnd', key });
      else if ('fail' in e) this.post(slot, { t: 'shareFail', key, message: e.fail });
      else {
        slot.mirrors.delete(key);
        this.post(slot, { t: 'unshare', key });
      }
    });
    slot.mirrors.set(key, unsubscribe);
  }

  private post(slot: Slot, m: ToWorker): void {
    if (slot.alive) slot.worker.postMessage(m);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const job = slot.jobs.get(m.id);
    if (!job) return;
    switch (m.t) {
      case 'want':
        job.credit += m.bytes;
        if (job.credit > 0 && !job.ended) job.stream?.resume();
        break;
      case 'end':
        job.ended = true;
        job.stream?.destroy();
        job.onEnd(m.outcome);
        break;
      case 'closed':
        slot.jobs.delete(m.id);
        job.onClose();
        break;
    }
  }

  private onDeath(slot: Slot): void {
    if (!slot.alive) return;
    slot.alive = false;
    for (const unsubscribe of slot.mirrors.values()) unsubscribe();
    slot.mirrors.clear();
    for (const [id, job] of slot.jobs) {
      slot.jobs.delete(id);
      job.stream?.destroy();
      if (!job.ended) job.onEnd({ ok: false, reason: 'cancelled', bytes: 0, error: { code: 0, message: 'worker exited' } });
      job.onClose();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => (s.alive ? s.worker.terminate() : undefined)));
  }
}
