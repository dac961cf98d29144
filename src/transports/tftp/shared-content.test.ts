// SharedContentCache on its own: the framed datagrams (RFC 1350 §5 headers, a short or empty last
// block, §6), readers that catch up with a load in progress, and the memory bounds (issue 5: a
// bound on memory; shared copies are bounded in total and per file, and dropped after their grace).
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { DATA_HEADROOM } from './packet.ts';
import { SharedContentCache, sharedBlockSource } from './shared-content.ts';

/** setTimeout/clearTimeout that fire only when told to. */
function manualClock() {
  const timers = new Set<{ fn: () => void }>();
  return {
    setTimeout(fn: () => void): unknown {
      const t = { fn };
      timers.add(t);
      return t;
    },
    clearTimeout(h: unknown): void {
      timers.delete(h as { fn: () => void });
    },
    fireAll(): void {
      for (const t of [...timers]) {
        timers.delete(t);
        t.fn();
      }
    },
  };
}

const bytes = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
const limits = { maxFileBytes: 10_000, maxTotalBytes: 25_000, graceMs: 1000 };

async function readAll(source: ReturnType<typeof sharedBlockSource>, blksize: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const b = await source.read(blksize);
    out.push(b);
    if (b.length - DATA_HEADROOM < blksize) return out;
  }
  throw new Error('no last block');
}

describe('SharedContentCache', () => {
  test('RFC 1350 §5/§6: datagrams carry DATA headers numbered from 1 and the content, the last one short', async () => {
    const cache = new SharedContentCache(limits, manualClock());
    const data = bytes(2048);
    const use = cache.acquire({ path: 'a', etag: '"1"', size: data.length }, 512, () => Readable.from([data]))!;
    const blocks = await readAll(sharedBlockSource(use.entry, 512, use.release), 512);
    expect(blocks.map((b) => b.readUInt16BE(0))).toEqual([3, 3, 3, 3, 3]);
    expect(blocks.map((b) => b.readUInt16BE(2))).toEqual([1, 2, 3, 4, 5]);
    expect(blocks[4].length).toBe(DATA_HEADROOM); // 2048 = 4 × 512: an empty last block
    expect(Buffer.concat(blocks.map((b) => b.subarray(DATA_HEADROOM))).equals(data)).toBe(true);
  });

  test('a reader ahead of the load waits for it; a second reader of the same content does not open it again', async () => {
    const cache = new SharedContentCache(limits, manualClock());
    const data = bytes(3000, 2);
    const stream = new PassThrough();
    let opens = 0;
    const open = () => {
      opens++;
      return stream;
    };
    const id = { path: 'b', etag: '"2"', size: data.length };
    const u1 = cache.acquire(id, 1000, open)!;
    const u2 = cache.acquire(id, 1000, open)!;
    expect(opens).toBe(1);
    expect(u2.entry).toBe(u1.entry);
    const s1 = sharedBlockSource(u1.entry, 1000, u1.release);
    expect(s1.readSync!(1000)).toBeUndefined(); // nothing loaded yet
    const pending = readAll(s1, 1000);
    stream.write(data.subarray(0, 1500));
    stream.end(data.subarray(1500));
    const blocks = await pending;
    expect(Buffer.concat(blocks.map((b) => b.subarray(DATA_HEADROOM))).equals(data)).toBe(true);
    const again = await readAll(sharedBlockSource(u2.entry, 1000, u2.release), 1000);
    expect(again.length).toBe(blocks.length);
  });

  test('issue 5, bounded memory: over maxFileBytes or over maxTotalBytes content is not shared; entries go after their grace', async () => {
    const clock = manualClock();
    const cache = new SharedContentCache(limits, clock);
    const open = (n: number) => () => Readable.from([bytes(n)]);
    expect(cache.acquire({ path: 'big', etag: '"x"', size: 10_001 }, 512, open(10_001))).toBeUndefined();
    const a = cache.acquire({ path: 'a', etag: '"1"', size: 10_000 }, 512, open(10_000))!;
    const b = cache.acquire({ path: 'b', etag: '"1"', size: 10_000 }, 512, open(10_000))!;
    expect(cache.acquire({ path: 'c', etag: '"1"', size: 10_000 }, 512, open(10_000))).toBeUndefined();
    expect(cache.bytes).toBe(2 * (10_000 + 20 * DATA_HEADROOM));
    a.release();
    a.release(); // a second release of the same use changes nothing
    expect(cache.bytes).toBeGreaterThan(0); // still within its grace
    clock.fireAll();
    expect(cache.bytes).toBe(10_000 + 20 * DATA_HEADROOM);
    b.release();
    clock.fireAll();
    expect(cache.bytes).toBe(0);
    expect(cache.acquire({ path: 'c', etag: '"1"', size: 10_000 }, 512, open(10_000))).toBeDefined();
  });

  test('a stream that delivers more than maxFileBytes fails the readers instead of growing past the budget', async () => {
    const cache = new SharedContentCache(limits, manualClock());
    const use = cache.acquire({ path: 'g', etag: '"1"', size: 100 }, 512, () => Readable.from([bytes(6000), bytes(6000)]))!;
    await expect(readAll(sharedBlockSource(use.entry, 512, use.release), 512)).rejects.toThrow(/larger than/);
  });
});
