// Content shared by the transfers that read the same file at the same time, as in a boot storm
// where every phone fetches the same image: the file is read from the core's stream once, laid out
// once as DATA datagrams with their headers written, and every session sends those same buffers.
// A session then costs no read, no copy and no allocation per block (bench/tftp.ts, "100 × 1 MB at
// once"). Every request still goes through BootService.handle(): policy, secrets and audit are
// unchanged; only `open()` is skipped when identical content is already loaded. The adapter
// shares only what the core streams from its tree, never a `body` it rendered for one request.
// With read workers the datagrams live in SharedArrayBuffers: each worker gets one mirror of an
// entry for all its sessions (worker-pool.ts), without a copy.
//
// Identical means the same request path, ETag and size (ETags are strong validators,
// RFC 9110 §8.8.3: the core changes them with the file), and the same blksize (the layout).
// An entry lives while sessions use it and for `graceMs` after the last one, so a stale copy
// cannot outlive its readers by more than that. Memory is bounded: files over `maxFileBytes`
// are streamed per session as before, and entries never hold more than `maxTotalBytes` together.
import type { Readable } from 'node:stream';
import { Framer } from './block-reader.ts';
import { DATA_HEADROOM, writeDataHeader } from './packet.ts';
import type { Clock } from '../../domain.ts';
import type { BlockSource } from './read-session.ts';
import { once } from '../../util/once.ts';

export interface SharedContentLimits {
  /** Largest file shared; larger ones stream per session. 0 disables sharing. */
  maxFileBytes: number;
  /** Bytes all entries may hold together; over it, new content streams per session. */
  maxTotalBytes: number;
  /** How long an entry stays after its last reader, for the next wave of requests. */
  graceMs: number;
}

export const DEFAULT_SHARED_CONTENT: SharedContentLimits = {
  maxFileBytes: 8 << 20,
  maxTotalBytes: 64 << 20,
  graceMs: 5000,
};

/** What a SharedContent tells its subscribers (the read workers mirroring it). */
export type SharedEvent = { chunk: Buffer } | { end: true } | { fail: string } | { dropped: true };

/** One file's content as framed DATA datagrams, filled as it is read. */
export class SharedContent {
  /** Datagram i carries block i+1 (headers written; sessions rewrite the same bytes). */
  readonly packets: Buffer[] = [];
  /** The framed chunks the datagrams are views of, in order (for a worker joining late). */
  readonly chunks: Buffer[] = [];
  done = false;
  failure: Error | undefined;
  /** Sessions reading it now, on this thread or in workers. */
  users = 0;
  dropTimer: unknown = undefined;
  private waiters: (() => void)[] = [];
  private readonly subscribers = new Set<(e: SharedEvent) => void>();

  constructor(
    readonly key: string,
    readonly bytes: number,
    readonly blksize: number,
  ) {}

  /** Cuts a framed chunk (Framer output) into datagrams; `headers`: write their DATA headers. */
  append(framed: Buffer, headers = true): void {
    const stride = this.blksize + DATA_HEADROOM;
    for (let at = 0; at < framed.length; at += stride) {
      const p = framed.subarray(at, Math.min(framed.length, at + stride));
      if (headers) writeDataHeader(p, this.packets.length + 1);
      this.packets.push(p);
    }
    this.chunks.push(framed);
    this.wake();
    this.tell({ chunk: framed });
  }

  finish(): void {
    this.done = true;
    this.wake();
    this.tell({ end: true });
  }

  fail(err: Error): void {
    this.failure = err;
    this.wake();
    this.tell({ fail: err.message });
  }

  /** Follows what arrives from now on; returns the unsubscribe function. */
  subscribe(fn: (e: SharedEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** The entry is gone from the cache: subscribers drop their mirrors. */
  dispose(): void {
    this.tell({ dropped: true });
    this.subscribers.clear();
  }

  private tell(e: SharedEvent): void {
    for (const fn of this.subscribers) fn(e);
  }

  /** Resolves when more datagrams, the end or a failure arrive. */
  more(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** The entries being read or kept for their grace period. */
export class SharedContentCache {
  private readonly entries = new Map<string, SharedContent>();
  private total = 0;

  /**
   * `sharedMemory`: lay content out in SharedArrayBuffers, so read workers can send the same
   * datagrams without a copy of their own.
   */
  constructor(
    private readonly limits: SharedContentLimits,
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
    private readonly sharedMemory = false,
  ) {}

  /** Bytes held by all entries (tests check it returns to 0). */
  get bytes(): number {
    return this.total;
  }

  /**
   * The shared copy of this content, loading it with `open()` if no session holds it yet, and its
   * release (once per acquire, when the session ends); undefined when it is not to be shared (too
   * large, over the budget) and the caller streams it itself. Throws what `open()` throws.
   */
  acquire(
    id: { path: string; etag: string; size: number },
    blksize: number,
    open: () => Readable,
  ): { entry: SharedContent; release: () => void } | undefined {
    const key = `${id.path}\0${id.etag}\0${id.size}\0${blksize}`;
    let entry = this.entries.get(key);
    if (!entry) {
      if (id.size > this.limits.maxFileBytes) return undefined;
      // Framed datagrams add DATA_HEADROOM per block.
      const bytes = id.size + (Math.floor(id.size / blksize) + 1) * DATA_HEADROOM;
      if (this.total + bytes > this.limits.maxTotalBytes) return undefined;
      const stream = open();
      entry = new SharedContent(key, bytes, blksize);
      this.entries.set(key, entry);
      this.total += bytes;
      load(entry, new Framer(blksize, this.sharedMemory), stream, this.limits.maxFileBytes);
    }
    if (entry.dropTimer !== undefined) {
      this.clock.clearTimeout(entry.dropTimer);
      entry.dropTimer = undefined;
    }
    entry.users++;
    const e = entry;
    return { entry, release: once(() => this.release(e)) };
  }

  private release(entry: SharedContent): void {
    entry.users--;
    if (entry.users > 0) return;
    // A failed load is not kept: the next request tries again.
    if (entry.failure) return this.drop(entry);
    entry.dropTimer = this.clock.setTimeout(() => this.drop(entry), this.limits.graceMs);
    (entry.dropTimer as { unref?: () => void }).unref?.();
  }

  private drop(entry: SharedContent): void {
    if (entry.users > 0 || this.entries.get(entry.key) !== entry) return;
    if (entry.dropTimer !== undefined) this.clock.clearTimeout(entry.dropTimer);
    entry.dropTimer = undefined;
    this.entries.delete(entry.key);
    this.total -= entry.bytes;
    entry.dispose();
  }

  /** Forgets every entry not in use (server shutdown). */
  clear(): void {
    for (const e of [...this.entries.values()]) {
      if (e.users === 0) this.drop(e);
    }
  }
}

/** Reads the whole stream into the entry, framing as it goes; more than `limit` bytes fails it. */
function load(entry: SharedContent, framer: Framer, stream: Readable, limit: number): void {
  let received = 0;
  stream.on('data', (chunk: Buffer | string) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += b.length;
    if (received > limit) {
      // The file grew past what was announced: never hold more than the budget allows.
      stream.destroy(new Error(`content larger than the ${limit} bytes shared at most`));
      return;
    }
    const framed = framer.push(b);
    if (framed) entry.append(framed);
  });
  stream.once('end', () => {
    entry.append(framer.end());
    entry.finish();
  });
  stream.once('error', (err) => entry.fail(err));
  stream.once('close', () => {
    if (!entry.done && !entry.failure) entry.fail(new Error('content stream closed before its end'));
  });
}

/** A session's reader of shared content; `onClose` once, when the session ends. */
export function sharedBlockSource(entry: SharedContent, blksize: number, onClose: () => void): BlockSource {
  let next = 0;
  let closed = false;
  const check = (n: number): void => {
    if (n !== blksize) throw new Error(`shared source of blksize ${blksize} asked for ${n} bytes`);
  };
  const past = (): Buffer => Buffer.alloc(DATA_HEADROOM);
  return {
    framed: true,
    readSync(n: number): Buffer | undefined {
      check(n);
      if (entry.failure) return undefined; // read() reports it
      if (next < entry.packets.length) return entry.packets[next++];
      return entry.done ? past() : undefined;
    },
    async read(n: number): Promise<Buffer> {
      check(n);
      while (next >= entry.packets.length && !entry.done && !entry.failure) await entry.more();
      if (entry.failure) throw entry.failure;
      return next < entry.packets.length ? entry.packets[next++] : past();
    },
    close(): void {
      if (closed) return;
      closed = true;
      onClose();
    },
  };
}
