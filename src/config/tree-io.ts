// Reading the provisioning tree in bulk: large files as chunks in reused buffers (images),
// and the walk over every file (lint, explain, `list`). Used by TreeFiles (tree-source.ts).
import { promises as fsp } from 'node:fs';
import { join, sep } from 'node:path';
import type { ByteRange } from './tree-paths.ts';

/** Chunk size when streaming large files (images). */
const CHUNK_BYTES = 256 * 1024;
/** The first chunk of a stream: enough for an image header and then some. */
const FIRST_CHUNK_BYTES = 64 * 1024;
/** Free chunk buffers kept for reuse; more in flight are allocated and dropped after use. */
const POOL_MAX = 64;
const pool: Buffer[] = [];

function takeChunkBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

function giveChunkBuffers(bufs: Buffer[]): void {
  for (const b of bufs) if (pool.length < POOL_MAX) pool.push(b);
}

/**
 * The bytes of `abs` (or a range of them) as chunks read into two pooled buffers in turn (see
 * TreeFiles.chunks).
 */
export async function* readChunks(abs: string, size: number, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
  const end = range ? range.end + 1 : size;
  let pos = range ? range.start : 0;
  if (pos >= end) return;
  const fh = await fsp.open(abs, 'r');
  const bufs = [takeChunkBuffer(), takeChunkBuffer()];
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    let i = 0;
    // The first chunk is small and nothing is read ahead of it: most phones read an image's
    // header and hang up (the image is unchanged), so reading 512 KiB for them was waste
    // (boot storm: ~890 KB read and ~490 KB sent per phone before the hang-up was seen).
    pending = fh.read(bufs[0]!, 0, Math.min(FIRST_CHUNK_BYTES, end - pos), pos);
    while (pending) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) return; // the file shrank under us: the caller sees a short body
      const cur = bufs[i & 1]!;
      pos += bytesRead;
      i++;
      const next = (): Promise<{ bytesRead: number }> => fh.read(bufs[i & 1]!, 0, Math.min(CHUNK_BYTES, end - pos), pos);
      if (i > 1 && pos < end) pending = next();
      yield cur.subarray(0, bytesRead);
      if (i === 1 && pos < end) pending = next();
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close().catch(() => undefined);
    giveChunkBuffers(bufs);
  }
}

/** Every regular file under `start` (the root; `root` its real path), sorted, skipping dot-directories. */
export async function* walkTree(root: string, start: string): AsyncGenerator<string> {
  const walk = async function* (abs: string, rel: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await fsp.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childAbs = join(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) yield* walk(childAbs, childRel);
      } else if (e.isFile()) {
        yield childRel;
      } else if (e.isSymbolicLink()) {
        // Directory links are not followed (no loops, no escapes); file links only inside the root.
        const real = await fsp.realpath(childAbs).catch(() => null);
        if (!real || !real.startsWith(root + sep)) continue;
        const st = await fsp.stat(real).catch(() => null);
        if (st?.isFile()) yield childRel;
      }
    }
  };
  yield* walk(start, '');
}
