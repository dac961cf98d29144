// SharedReads (shared-reads.ts): one copy of a large file for all its concurrent readers, never a
// stale one, bounded in memory (issue 14 Scale: server RSS).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedReads, type FileVersion } from './shared-reads.ts';
import { sharedChunks } from './tree-io.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyprov-shared-reads-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function version(abs: string): Promise<FileVersion> {
  const st = await stat(abs);
  return { abs, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, dev: st.dev };
}

/** Writes `size` random bytes to `name` in the test directory: the bytes and the file's version. */
async function randomFile(name: string, size: number): Promise<{ bytes: Buffer; v: FileVersion }> {
  const abs = join(dir, name);
  const bytes = randomBytes(size);
  await writeFile(abs, bytes);
  return { bytes, v: await version(abs) };
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('SharedReads', () => {
  it('gives concurrent readers of one version the same buffer, loaded once', async () => {
    const { bytes, v } = await randomFile('a.ld', 700_000);
    const shared = new SharedReads({ maxFileBytes: 1 << 20, maxTotalBytes: 4 << 20, graceMs: 50 });
    const got = await Promise.all(Array.from({ length: 20 }, () => shared.acquire(v)));
    expect(got.every((g) => g !== undefined && g.body === got[0]!.body)).toBe(true);
    expect(got[0]!.body.equals(bytes)).toBe(true);
    expect(shared.held).toEqual({ files: 1, bytes: 700_000 });
    for (const g of got) g!.release();
    // Kept for the grace period after the last reader, then dropped.
    expect(shared.held.files).toBe(1);
    await new Promise((r) => setTimeout(r, 120));
    expect(shared.held).toEqual({ files: 0, bytes: 0 });
  });

  it('never serves a stale copy: a rewritten file is another version; a version that no longer matches is not shared', async () => {
    const abs = join(dir, 'b.ld');
    await writeFile(abs, randomBytes(300_000));
    const old = await version(abs);
    const shared = new SharedReads({ maxFileBytes: 1 << 20, maxTotalBytes: 4 << 20, graceMs: 10_000 });
    const first = await shared.acquire(old);
    expect(first).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    const next = randomBytes(300_000);
    await writeFile(abs, next);
    const now = await version(abs);
    const second = await shared.acquire(now);
    expect(second!.body.equals(next)).toBe(true);
    expect(second!.body).not.toBe(first!.body);
    // The old version asked for again (a request that found it before the edit) is not loaded from the new bytes.
    const clearOld = new SharedReads({ maxFileBytes: 1 << 20, maxTotalBytes: 4 << 20, graceMs: 10_000 });
    expect(await clearOld.acquire(old)).toBeUndefined();
    first!.release();
    second!.release();
    shared.clear();
    expect(shared.held.files).toBe(0);
  });

  it('stays within its budget: a file over the per-file or total limit is not shared, and is streamed whole instead', async () => {
    const { bytes, v } = await randomFile('big.ld', 600_000);
    const small = new SharedReads({ maxFileBytes: 500_000, maxTotalBytes: 4 << 20, graceMs: 10 });
    expect(await small.acquire(v)).toBeUndefined();
    const tight = new SharedReads({ maxFileBytes: 1 << 20, maxTotalBytes: 1_000_000, graceMs: 10 });
    const other = join(dir, 'other.ld');
    await writeFile(other, randomBytes(500_000));
    const o = await tight.acquire(await version(other));
    expect(o).toBeDefined();
    expect(await tight.acquire(v)).toBeUndefined();
    expect(tight.held.bytes).toBe(500_000);
    expect((await collect(sharedChunks(tight, v))).equals(bytes)).toBe(true);
    o!.release();
  });

  it('sharedChunks yields exactly the file or a range, a small first slice then large ones', async () => {
    const { bytes, v } = await randomFile('c.ld', 1_000_000);
    const shared = new SharedReads({ maxFileBytes: 2 << 20, maxTotalBytes: 4 << 20, graceMs: 10 });
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for await (const c of sharedChunks(shared, v)) {
      sizes.push(c.length);
      parts.push(c);
    }
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect(sizes.slice(0, 2)).toEqual([64 * 1024, 256 * 1024]);
    for (const r of [{ start: 0, end: 0 }, { start: 70_000, end: 999_999 }, { start: 5, end: 65_540 }]) {
      expect((await collect(sharedChunks(shared, v, r))).equals(bytes.subarray(r.start, r.end + 1))).toBe(true);
    }
    // A reader that stops early releases its hold.
    for await (const _ of sharedChunks(shared, v)) break;
    await new Promise((r) => setTimeout(r, 40));
    expect(shared.held.files).toBe(0);
  });
});
