// Cuts content into fixed-size blocks for a ReadSession, framed as whole DATA datagrams
// (DATA_HEADROOM bytes for the header, then the payload) so each block goes out as one buffer.
// streamBlockSource reads a Readable in paused mode (so back-pressure reaches the file) and frames
// each block with one copy. On the read-worker path the main thread frames (Framer, in the copy it
// makes anyway to transfer the content) and FramedBlockSource hands out views of what arrives.
// Each holds at most its own buffer plus one block.
import type { Readable } from 'node:stream';
import { DATA_HEADROOM, type BlockSource } from './session.ts';

/** Chunks in arrival order, cut into framed blocks (one copy each). */
export class BlockQueue {
  private chunks: Buffer[] = [];
  private headOffset = 0;
  buffered = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.buffered += b.length;
  }

  clear(): void {
    this.chunks = [];
    this.headOffset = 0;
    this.buffered = 0;
  }

  /** The next `n` bytes (n ≤ buffered) behind DATA_HEADROOM bytes of room, in a buffer of their own. */
  takeFramed(n: number): Buffer {
    const out = Buffer.allocUnsafe(DATA_HEADROOM + n);
    let filled = DATA_HEADROOM;
    while (filled < out.length) {
      const c = this.chunks[0];
      const copied = c.copy(out, filled, this.headOffset, Math.min(c.length, this.headOffset + (out.length - filled)));
      filled += copied;
      this.headOffset += copied;
      if (this.headOffset === c.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.buffered -= n;
    return out;
  }
}

export function streamBlockSource(stream: Readable): BlockSource {
  const q = new BlockQueue();
  let ended = false;
  let failure: Error | undefined;
  let waiter: (() => void) | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  stream.on('readable', wake);
  stream.on('end', () => {
    ended = true;
    wake();
  });
  stream.on('close', () => {
    ended = true;
    wake();
  });
  stream.on('error', (err) => {
    failure = err;
    wake();
  });

  /** Pulls what the stream has buffered, without waiting; false when it has nothing more now. */
  function pullOne(): boolean {
    const chunk = stream.read() as Buffer | string | null;
    if (chunk === null) return false;
    q.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return true;
  }

  return {
    framed: true,
    readSync(n: number): Buffer | undefined {
      if (failure) return undefined; // read() reports it
      while (q.buffered < n && !ended && pullOne());
      return q.buffered >= n || ended ? q.takeFramed(Math.min(n, q.buffered)) : undefined;
    },
    async read(n: number): Promise<Buffer> {
      while (q.buffered < n && !ended) {
        if (failure) throw failure;
        if (pullOne()) continue;
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
      if (failure) throw failure;
      return q.takeFramed(Math.min(n, q.buffered));
    },
    close(): void {
      q.clear();
      if (!stream.destroyed) stream.destroy();
    },
  };
}

/**
 * Main-thread side of the worker path: lays content out as framed DATA datagrams of `blksize`
 * payload, end to end, in fresh buffers that can be transferred to a worker. Whole datagrams go
 * out with each chunk; a partial one waits for the next chunk or for end().
 */
export class Framer {
  private readonly stride: number;
  private partial: Buffer | undefined;
  private fill = 0;

  constructor(private readonly blksize: number) {
    this.stride = blksize + DATA_HEADROOM;
  }

  /** The whole datagrams completed by this chunk, or undefined when it completes none. */
  push(b: Buffer): Uint8Array | undefined {
    const whole = Math.floor((this.fill + b.length) / this.blksize);
    let at = 0;
    let out: Uint8Array | undefined;
    if (whole > 0) {
      // Not zero-filled: every payload byte is written here and every header by the session before it sends.
      out = Buffer.allocUnsafeSlow(whole * this.stride);
      for (let i = 0; i < whole; i++) {
        let o = i * this.stride + DATA_HEADROOM;
        let want = this.blksize;
        if (i === 0 && this.fill > 0) {
          this.partial!.copy(out, o, 0, this.fill);
          o += this.fill;
          want -= this.fill;
          this.fill = 0;
        }
        b.copy(out, o, at, at + want);
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
  end(): Uint8Array {
    const out = Buffer.allocUnsafeSlow(DATA_HEADROOM + this.fill);
    if (this.fill > 0) this.partial!.copy(out, DATA_HEADROOM, 0, this.fill);
    this.fill = 0;
    return out;
  }
}

/** Payload bytes in a run of framed datagrams of `blksize` (only the last may be short). */
export function framedPayload(length: number, blksize: number): number {
  return length - Math.ceil(length / (blksize + DATA_HEADROOM)) * DATA_HEADROOM;
}

/**
 * Worker side: framed datagrams posted by the main thread (Framer), handed out as views without a
 * copy. Asks for more through `want(bytes)` when less than half of `highWater` payload is
 * buffered or on its way, so at most `highWater` bytes wait per session.
 */
export class FramedBlockSource implements BlockSource {
  readonly framed = true;
  private readonly stride: number;
  private chunks: Buffer[] = [];
  private headOffset = 0;
  /** Payload bytes buffered. */
  private buffered = 0;
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
    this.stride = blksize + DATA_HEADROOM;
    this.requested = highWater;
    want(highWater);
  }

  push(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const payload = framedPayload(chunk.length, this.blksize);
    this.requested -= payload;
    this.buffered += payload;
    this.chunks.push(chunk);
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
    const outstanding = this.buffered + Math.max(0, this.requested);
    if (!this.ended && outstanding < this.highWater / 2) {
      const ask = this.highWater - outstanding;
      this.requested += ask;
      this.want(ask);
    }
  }

  /** The next datagram; past the end of the content an empty one. */
  private take(): Buffer {
    const c = this.chunks[0];
    if (c === undefined) return Buffer.alloc(DATA_HEADROOM);
    const end = Math.min(c.length, this.headOffset + this.stride);
    const out = c.subarray(this.headOffset, end);
    this.buffered -= out.length - DATA_HEADROOM;
    if (end === c.length) {
      this.chunks.shift();
      this.headOffset = 0;
    } else {
      this.headOffset = end;
    }
    this.refill();
    return out;
  }

  readSync(n: number): Buffer | undefined {
    if (n !== this.blksize) throw new Error(`framed source of blksize ${this.blksize} asked for ${n} bytes`);
    if (this.failure) return undefined;
    if (this.chunks.length === 0 && !this.ended) {
      this.refill();
      return undefined;
    }
    return this.take();
  }

  async read(n: number): Promise<Buffer> {
    if (n !== this.blksize) throw new Error(`framed source of blksize ${this.blksize} asked for ${n} bytes`);
    while (this.chunks.length === 0 && !this.ended) {
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
    this.chunks = [];
    this.buffered = 0;
  }
}
