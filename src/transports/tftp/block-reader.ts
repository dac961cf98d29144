// Cuts content into fixed-size blocks for a ReadSession. Two sources share one queue:
// streamBlockSource reads a Readable in paused mode (so back-pressure reaches the file), and
// PushedBlockSource takes chunks posted to a worker thread. Each holds at most its own buffer
// plus one block.
import type { Readable } from 'node:stream';
import type { BlockSource } from './session.ts';

/** Chunks in arrival order; blocks are views into them when they fit, copies when they straddle. */
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

  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const head = this.chunks[0];
    if (head.length - this.headOffset >= n) {
      const out = head.subarray(this.headOffset, this.headOffset + n);
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const copied = c.copy(out, filled, this.headOffset, Math.min(c.length, this.headOffset + (n - filled)));
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
    readSync(n: number): Buffer | undefined {
      if (failure) return undefined; // read() reports it
      while (q.buffered < n && !ended && pullOne());
      return q.buffered >= n || ended ? q.take(Math.min(n, q.buffered)) : undefined;
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
      return q.take(Math.min(n, q.buffered));
    },
    close(): void {
      q.clear();
      if (!stream.destroyed) stream.destroy();
    },
  };
}

/**
 * Content posted chunk by chunk (to a worker thread). Asks for more through `want(bytes)` when
 * less than half of `highWater` is buffered, so at most `highWater` bytes wait per session.
 */
export class PushedBlockSource implements BlockSource {
  private readonly q = new BlockQueue();
  private ended = false;
  private failure: Error | undefined;
  private requested = 0;
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly highWater: number,
    private readonly want: (bytes: number) => void,
    private readonly onClose: () => void,
  ) {
    this.requested = highWater;
    want(highWater);
  }

  push(chunk: Buffer): void {
    if (this.closed) return;
    this.requested -= chunk.length;
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

  readSync(n: number): Buffer | undefined {
    if (this.failure) return undefined;
    if (this.q.buffered < n && !this.ended) {
      this.refill();
      return undefined;
    }
    const b = this.q.take(Math.min(n, this.q.buffered));
    this.refill();
    return b;
  }

  async read(n: number): Promise<Buffer> {
    while (this.q.buffered < n && !this.ended) {
      if (this.failure) throw this.failure;
      this.refill();
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    if (this.failure) throw this.failure;
    const b = this.q.take(Math.min(n, this.q.buffered));
    this.refill();
    return b;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.q.clear();
    this.onClose();
  }
}
