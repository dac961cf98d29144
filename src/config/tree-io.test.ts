// readChunks (tree-io.ts): the bytes of a file or range, exactly, in pooled buffers; a reader
// that hangs up after the header costs one small buffer (issue 14 Scale: server RSS).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPoolSizes, readChunks } from './tree-io.ts';

let dir: string;
let file: string;
const body = randomBytes(1024 * 1024 + 12345);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'polyprov-tree-io-'));
  file = join(dir, 'sip.ld');
  await writeFile(file, body);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function collect(range?: { start: number; end: number }): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  // Copy each chunk: it is valid only until the next is asked for.
  for await (const c of readChunks(file, body.length, range)) {
    parts.push(Buffer.from(c));
    sizes.push(c.length);
  }
  return { bytes: Buffer.concat(parts), sizes };
}

describe('readChunks', () => {
  it('yields the whole file, a small first chunk then large ones', async () => {
    const { bytes, sizes } = await collect();
    expect(bytes.equals(body)).toBe(true);
    expect(sizes[0]).toBe(64 * 1024);
    expect(sizes[1]).toBe(256 * 1024);
  });

  it('yields exactly a range, including one inside the first chunk and one ending at the last byte', async () => {
    for (const r of [{ start: 0, end: 0 }, { start: 100, end: 5000 }, { start: 65_000, end: 700_001 }, { start: body.length - 7, end: body.length - 1 }]) {
      const { bytes } = await collect(r);
      expect(bytes.equals(body.subarray(r.start, r.end + 1))).toBe(true);
    }
  });

  it('keeps a chunk intact until the next is asked for (read-ahead goes to the other buffer)', async () => {
    let offset = 0;
    for await (const c of readChunks(file, body.length)) {
      // Let the read-ahead of the next chunk land before checking this one is still intact.
      await new Promise((r) => setTimeout(r, 5));
      expect(c.equals(body.subarray(offset, offset + c.length))).toBe(true);
      offset += c.length;
    }
    expect(offset).toBe(body.length);
  });

  it('a reader that stops after the header takes no large buffer, and buffers go back to bounded pools', async () => {
    const before = chunkPoolSizes();
    for (let i = 0; i < 5; i++) {
      for await (const c of readChunks(file, body.length)) {
        expect(c.length).toBe(64 * 1024);
        break;
      }
    }
    const after = chunkPoolSizes();
    expect(after.chunk).toBe(before.chunk);
    expect(after.first).toBeGreaterThanOrEqual(1);
    // 100 readers at once, all reading to the end: the pools keep at most 32 buffers each.
    await Promise.all(Array.from({ length: 100 }, () => collect({ start: 0, end: 400_000 })));
    const full = chunkPoolSizes();
    expect(full.first).toBeLessThanOrEqual(32);
    expect(full.chunk).toBeLessThanOrEqual(32);
    expect(full.chunk).toBeGreaterThan(0);
  });

  it('a file that shrank under the reader ends the body short instead of hanging', async () => {
    const short = join(dir, 'short.ld');
    await writeFile(short, body.subarray(0, 1000));
    const parts: Buffer[] = [];
    for await (const c of readChunks(short, body.length)) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).equals(body.subarray(0, 1000))).toBe(true);
  });
});
