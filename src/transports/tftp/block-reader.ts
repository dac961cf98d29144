// Cuts content into blocks for a ReadSession, framed as whole DATA datagrams (DATA_HEADROOM bytes
// for the header, then the payload) so each block goes out as one buffer. A Framer lays each
// chunk of content out that way with one copy, into one buffer per chunk; blocks are then views
// into it, so a block costs no allocation of its own. On the main thread streamBlockSource frames
// what it reads from a Readable (paused mode, so back-pressure reaches the file); on the read-worker
// path the main thread frames in the copy it makes anyway to transfer the content, and
// FramedBlockSource hands out views of what arrives. Each holds at most its own buffer plus one
// framed chunk.
import type { Readable } from 'node:stream';
import { DATA_HEADROOM } from './packet.ts';
import type { BlockSource } from './read-session.ts';

/**
 * Lays content out as framed DATA datagrams of `blksize` payload, end to end, in fresh buffers
 * (transferable to a worker). Whole datagrams come out with each chunk; a partial one waits for
 * the next chunk or for end().
 */
export class Framer {
  private readonly stride: number;
  private partial: Buffer | undefined;
  private fill = 0;

  /** `sharedMemory`: output in SharedArrayBuffers (several threads read it) instead of transferable ones. */
  constructor(
    private readonly blksize: number,
    private readonly sharedMemory = false,
  ) {
    this.stride = blksize + DATA_HEADROOM;
  }

  private alloc(n: number): Buffer {
    // Not zero-filled: every payload byte is written here and every header before it is sent.
    return this.sharedMemory ? Buffer.from(new SharedArrayBuffer(n)) : Buffer.allocUnsafeSlow(n);
  }

  /** The whole datagrams completed by this chunk, or undefined when it completes none. */
  push(b: Buffer): Buffer | undefined {
    const whole = Math.floor((this.fill + b.length) / this.blksize);
    let at = 0;
    let out: Buffer | undefined;
    if (whole > 0) {
      out = this.alloc(whole * this.stride);
      for (let i = 0; i < whole; i++) {
        let o = i * this.stride + DATA_HEADROOM;
        let want = this.blksize;
        if (i === 0 && this.fill > 0) {
          out.set(this.partial!.subarray(0, this.fill), o);
          o += this.fill;
          want -= this.fill;
          this.fill = 0;
        }
        // TypedArray set() on a plain view: Buffer.copy() validates its arguments on every call.
        out.set(new Uint8Array(b.buffer, b.byteOffset + at, want), o);
        at += want;
      }
    }
    if (at < b.length) {
      this.partial ??= Buffer.allocUnsafe(this.blksize);
      this.fill += b.copy(this.partial, this.fill, at);
    }
    return out;
  }

  /** The final datagram: shorter than blksize, empty when the content is a whole number of blocks (RFC 1350 §6). */
  end(): Buffer {
    const out = this.alloc(DATA_HEADROOM + this.fill);
    if (this.fill > 0) this.partial!.copy(out, DATA_HEADROOM, 0, this.fill);
    this.fill = 0;
    return out;
  }
}

/** Payload bytes in a run of framed datagrams of `blksize` (only the last may be short). */
export function framedPayload(length: number, blksize: number): number {
  return length - Math.ceil(length / (blksize + DATA_HEADROOM)) * DATA_HEADROOM;
}

/** Framed chunks in arrival order, handed out one datagram (a view) at a time. */
class FramedQueue {
  private readonly stride: number;
  private chunks: Buffer[] = [];
  private headOffset = 0;
  /** Payload bytes queued. */
  buffered = 0;

  constructor(private readonly blksize: number) {
    this.stride = blksize + DATA_HEADROOM;
  }

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  push(framed: Buffer): void {
    if (framed.length === 0) return;
    this.buffered += framedPayload(framed.length, this.blksize);
    this.chunks.push(framed);
  }

  /** The next datagram; the queue must not be empty. */
  take(): Buffer {
    const c = this.chunks[0];
    const end = Math.min(c.length, this.headOffset + this.stride);
    const out = c.subarray(this.headOffset, end);
    this.buffered -= out.length - DATA_HEADROOM;
    if (end === c.length) {
      this.chunks.shift();
      this.headOffset = 0;
    } else {
      this.headOffset = end;
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.headOffset = 0;
    this.buffered = 0;
  }
}

/** Past the end of the content: an empty final datagram. */
const pastEnd = (): Buffer => Buffer.alloc(DATA_HEADROOM);

function checkBlksize(n: number, blksize: number): void {
  if (n !== blksize) throw new Error(`framed source of blksize ${blksize} asked for ${n} bytes`);
}

/** Framed blocks of `blksize` from a Readable, read in paused mode. */
export function streamBlockSource(stream: Readable, blksize: number): BlockSource {
  const framer = new Framer(blksize);
  const q = new FramedQueue(blksize);
  /** The stream is over and its final datagram queued. */
  let ended = false;
  let failure: Error | undefined;
  let waiter: (() => void) | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const finish = (): void => {
    if (!ended) q.push(framer.end());
    ended = true;
    wake();
  };
  stream.on('readable', wake);
  stream.on('end', finish);
  stream.on('close', finish);
  stream.on('error', (err) => {
    failure = err;
    wake();
  });

  /** Pulls what the stream has buffered, without waiting; false when it has nothing more now. */
  function pullOne(): boolean {
    const chunk = stream.read() as Buffer | string | null;
    if (chunk === null) return false;
    const framed = framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (framed) q.push(framed);
    return true;
  }

  return {
    framed: true,
    readSync(n: number): Buffer | undefined {
      checkBlksize(n, blksize);
      if (failure) return undefined; // read() reports it
      while (q.empty && !ended && pullOne());
      if (!q.empty) return q.take();
      return ended ? pastEnd() : undefined;
    },
    async read(n: number): Promise<Buffer> {
      checkBlksize(n, blksize);
      while (q.empty && !ended) {
        if (failure) throw failure;
        if (pullOne()) continue;
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
      if (failure) throw failure;
      return q.empty ? pastEnd() : q.take();
    },
    close(): void {
      q.clear();
      if (!stream.destroyed) stream.destroy();
    },
  };
}

/**
 * Worker side: framed datagrams posted by the main thread (Framer), handed out as views without a
 * copy. Asks for more through `want(bytes)` when less than half of `highWater` payload is
 * buffered or on its way, so at most `highWater` bytes wait per session.
 */
export class FramedBlockSource implements BlockSource {
  readonly framed = true;
  private readonly q: FramedQueue;
  private ended = false;
  private failure: Error | undefined;
  private requested = 0;
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly blksize: number,
    private readonly highWater: number,
    private readonly want: (bytes: number) => void,
  ) {
    this.q = new FramedQueue(blksize);
    this.requested = highWater;
    want(highWater);
  }

  push(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    this.requested -= framedPayload(chunk.length, this.blksize);
    this.q.push(chunk);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(message: string): void {
    this.failure = new Error(message);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private refill(): void {
    const outstanding = this.q.buffered + Math.max(0, this.requested);
    if (!this.ended && outstanding < this.highWater / 2) {
      const ask = this.highWater - outstanding;
      this.requested += ask;
      this.want(ask);
    }
  }

  private take(): Buffer {
    if (this.q.empty) return pastEnd();
    const out = this.q.take();
    this.refill();
    return out;
  }

  readSync(n: number): Buffer | undefined {
    checkBlksize(n, this.blksize);
    if (this.failure) return undefined;
    if (this.q.empty && !this.ended) {
      this.refill();
      return undefined;
    }
    return this.take();
  }

  async read(n: number): Promise<Buffer> {
    checkBlksize(n, this.blksize);
    while (this.q.empty && !this.ended) {
      if (this.failure) throw this.failure;
      this.refill();
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    if (this.failure) throw this.failure;
    return this.take();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.q.clear();
  }
}
