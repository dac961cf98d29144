// Cuts a Readable into fixed-size blocks for a ReadSession, holding at most the stream's own
// buffer plus one block: the stream is read in paused mode, so back-pressure reaches the file.
import type { Readable } from 'node:stream';
import type { BlockSource } from './session.ts';

export function streamBlockSource(stream: Readable): BlockSource {
  const chunks: Buffer[] = [];
  let headOffset = 0;
  let buffered = 0;
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

  function take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const head = chunks[0];
    if (head.length - headOffset >= n) {
      // Common case: a block lies inside one chunk; a view, not a copy.
      const out = head.subarray(headOffset, headOffset + n);
      headOffset += n;
      if (headOffset === head.length) {
        chunks.shift();
        headOffset = 0;
      }
      buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = chunks[0];
      const copied = c.copy(out, filled, headOffset, Math.min(c.length, headOffset + (n - filled)));
      filled += copied;
      headOffset += copied;
      if (headOffset === c.length) {
        chunks.shift();
        headOffset = 0;
      }
    }
    buffered -= n;
    return out;
  }

  /** Pulls what the stream has buffered, without waiting. */
  function pull(n: number): void {
    while (buffered < n && !ended && !failure) {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk === null) return;
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (b.length > 0) {
        chunks.push(b);
        buffered += b.length;
      }
    }
  }

  return {
    readSync(n: number): Buffer | undefined {
      if (failure) return undefined; // read() reports it
      pull(n);
      return buffered >= n || ended ? take(Math.min(n, buffered)) : undefined;
    },
    async read(n: number): Promise<Buffer> {
      while (buffered < n && !ended) {
        if (failure) throw failure;
        const chunk = stream.read() as Buffer | string | null;
        if (chunk !== null) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          if (b.length > 0) {
            chunks.push(b);
            buffered += b.length;
          }
          continue;
        }
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
      if (failure) throw failure;
      return take(Math.min(n, buffered));
    },
    close(): void {
      chunks.length = 0;
      buffered = 0;
      if (!stream.destroyed) stream.destroy();
    },
  };
}
