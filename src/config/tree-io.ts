// Reading the provisioning tree in bulk: large files as chunks in reused buffers (images),
// and the walk over every file (lint, explain, `list`). Used by TreeFiles (tree-source.ts).
import { promises as fsp } from 'node:fs';
import { join, sep } from 'node:path';
import type { ByteRange } from './tree-paths.ts';
import type { FileVersion, SharedReads } from './shared-reads.ts';

/** Chunk size when streaming large files (images). */
const CHUNK_BYTES = 256 * 1024;
/** The first chunk of a stream: enough for an image header and then some. */
const FIRST_CHUNK_BYTES = 64 * 1024;
/** Free buffers kept for reuse, per size; more in flight are allocated and dropped after use. */
const POOL_MAX = 32;
const pools = new Map<number, Buffer[]>([
  [FIRST_CHUNK_BYTES, []],
  [CHUNK_BYTES, []],
]);

function take(size: number): Buffer {
  return pools.get(size)!.pop() ?? Buffer.allocUnsafeSlow(size);
}

function give(b: Buffer): void {
  const pool = pools.get(b.length);
  if (pool && pool.length < POOL_MAX) pool.push(b);
}

/** How many buffers each pool holds now (tests). */
export function chunkPoolSizes(): { first: number; chunk: number } {
  return { first: pools.get(FIRST_CHUNK_BYTES)!.length, chunk: pools.get(CHUNK_BYTES)!.length };
}

/**
 * The bytes of `abs` (or a range of them) as chunks read into pooled buffers in turn (see
 * TreeFiles.chunks). Memory follows what the phone takes (issue 14 Scale, server RSS): the first
 * chunk is read into a small buffer and nothing is read ahead of it, because most phones read an
 * image's header and hang up (the image is unchanged: a boot storm saw ~890 KB read and ~490 KB
 * sent per phone when 512 KiB were read up front). Only a phone that asks for more gets the two
 * large buffers that alternate (the next chunk is read while this one is sent); 200 phones
 * hanging up after the header hold 13 MB, not 100 MB.
 */
export async function* readChunks(abs: string, size: number, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
  const end = range ? range.end + 1 : size;
  let pos = range ? range.start : 0;
  if (pos >= end) return;
  const fh = await fsp.open(abs, 'r');
  const held: Buffer[] = [];
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    const head = take(FIRST_CHUNK_BYTES);
    held.push(head);
    const { bytesRead } = await fh.read(head, 0, Math.min(FIRST_CHUNK_BYTES, end - pos), pos);
    if (bytesRead === 0) return; // the file shrank under us: the caller sees a short body
    pos += bytesRead;
    yield head.subarray(0, bytesRead);
    if (pos >= end) return;
    const bufs = [take(CHUNK_BYTES), take(CHUNK_BYTES)];
    held.push(...bufs);
    let i = 0;
    const next = (): Promise<{ bytesRead: number }> => fh.read(bufs[i & 1]!, 0, Math.min(CHUNK_BYTES, end - pos), pos);
    pending = next();
    while (pending) {
      const { bytesRead: n } = await pending;
      pending = undefined;
      if (n === 0) return;
      const cur = bufs[i & 1]!;
      pos += n;
      i++;
      if (pos < end) pending = next();
      yield cur.subarray(0, n);
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close().catch(() => undefined);
    for (const b of held) give(b);
  }
}

/**
 * The bytes of this version of a file as slices of the copy its concurrent readers share
 * (shared-reads.ts), in the sizes readChunks yields; streamed by readChunks when it is not shared.
 */
export async function* sharedChunks(shared: SharedReads, file: FileVersion, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
  const held = await shared.acquire(file);
  if (!held) {
    yield* readChunks(file.abs, file.size, range);
    return;
  }
  try {
    const end = Math.min(range ? range.end + 1 : file.size, held.body.length);
    let pos = range ? range.start : 0;
    let size = FIRST_CHUNK_BYTES;
    while (pos < end) {
      const n = Math.min(size, end - pos);
      yield held.body.subarray(pos, pos + n);
      pos += n;
      size = CHUNK_BYTES;
    }
  } finally {
    held.release();
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
