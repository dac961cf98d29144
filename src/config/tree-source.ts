// The provisioning tree on disk: the one reader behind the boot server's serving path, the
// resolver (`explain`), `lint` and the CLI. It stats and streams files with byte ranges, matches
// MAC names in either letter case (Administrator's Guide, master configuration file: "For A-F
// hexadecimal digits, use upper or lower case"; facts §1.1), and never reaches outside the root
// (hostile paths are refused, symlinks are followed only when their target stays inside it).
// Streams are opened lazily so a phone that reads an image header and hangs up costs one open and
// one close.
//
// Speed (README "The serving path"; bench http): metadata lookups are synchronous system calls
// (stat, realpath), as nginx's worker makes them: on a local tree they cost microseconds, where
// the promise API costs a thread-pool round trip each. Small files (configuration, directories)
// are kept in memory, keyed by inode, size, mtime and ctime, so an edited file is served new at
// once; the cache is bounded in bytes and drops least recently used entries first.
import { createReadStream, promises as fsp, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { ProvError } from '../errors.ts';
import type { TreeSource } from './types.ts';

/** A byte range, both ends inclusive (HTTP Range, FTP REST). */
export interface ByteRange {
  start: number;
  end: number;
}

/** A run of 12 hex digits not inside a longer hex run: the MAC part of a file name. */
const MAC_IN_NAME = /(^|[^0-9A-Fa-f])[0-9A-Fa-f]{12}([^0-9A-Fa-f]|$)/;
const MAC_RUNS = /(^|[^0-9A-Fa-f])([0-9A-Fa-f]{12})(?![0-9A-Fa-f])/g;
const OUTSIDE = Symbol('outside the root');

export function hasMacName(name: string): boolean {
  return MAC_IN_NAME.test(name);
}

/**
 * Splits a tree path into segments, refusing anything that could leave the root: `..`,
 * absolute paths, NUL, backslashes (a Windows-style separator would let `..\\` through), drive
 * letters. `.` and empty segments are dropped.
 */
export function safeSegments(path: string): string[] {
  const hostile = (why: string): never => {
    throw new ProvError('PP_PATH_HOSTILE', `path "${path.replace(/[\x00-\x1f]/g, '?')}" ${why}`, { hint: 'Use a path relative to the provisioning root, without "..".' });
  };
  if (path.includes('\0')) hostile('contains a NUL byte');
  if (path.startsWith('/')) hostile('is absolute');
  if (path.includes('\\')) hostile('contains a backslash');
  if (/^[A-Za-z]:/.test(path)) hostile('names a drive');
  const segs = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.some((s) => s === '..')) hostile('climbs out of the root with ".."');
  return segs;
}

export interface TreeFile {
  rel: string;
  abs: string;
  size: number;
  mtime: Date;
  etag: string;
  isDirectory: boolean;
  /** Identity of this version of the file, for the content cache. */
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface TreeFilesOptions {
  /** Files up to this size are kept in memory once read (default 256 KiB). */
  cacheFileBytes?: number;
  /** Memory for cached contents, all files together (default 64 MiB; 0 turns the cache off). */
  cacheTotalBytes?: number;
}

interface CachedContent {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  body: Buffer;
}

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

export class TreeFiles implements TreeSource {
  private rootReal: string | undefined;
  private readonly dirs = new Map<string, { real: string | undefined; at: number }>();
  private readonly content = new Map<string, CachedContent>();
  private cachedBytes = 0;
  private readonly maxFile: number;
  private readonly maxTotal: number;

  readonly root: string;

  constructor(root: string, opts: TreeFilesOptions = {}) {
    this.root = resolve(root);
    this.maxTotal = opts.cacheTotalBytes ?? 64 << 20;
    this.maxFile = Math.min(opts.cacheFileBytes ?? 256 << 10, this.maxTotal);
  }

  private realRoot(): string {
    if (this.rootReal === undefined) this.rootReal = realpathSync.native(this.root);
    return this.rootReal;
  }

  /**
   * Name variants to try: as asked, then its MAC digits in lower and then upper case ("For A-F
   * hexadecimal digits, use upper or lower case", Administrator's Guide; facts §1.1). Only the
   * MAC digits are case-blind; the rest of the name must match exactly. Two extra stats on a
   * miss, never a directory read: phones ask for many names that do not exist (`<MAC>.cfg`,
   * `<MAC>-phone.cfg`), thousands a second in a boot storm.
   */
  private variants(rel: string): string[] {
    const i = rel.lastIndexOf('/');
    const base = i < 0 ? rel : rel.slice(i + 1);
    if (!MAC_IN_NAME.test(base)) return [rel];
    const dir = i < 0 ? '' : rel.slice(0, i + 1);
    const lower = dir + base.replace(MAC_RUNS, (_m, pre: string, hex: string) => pre + hex.toLowerCase());
    const upper = dir + base.replace(MAC_RUNS, (_m, pre: string, hex: string) => pre + hex.toUpperCase());
    return rel === lower ? [rel, upper] : rel === upper ? [rel, lower] : [rel, lower, upper];
  }

  /** Finds a file (or directory) of the tree, or undefined. Never returns a path outside the root. */
  async find(rel: string): Promise<TreeFile | undefined> {
    return this.findNow(rel);
  }

  /** `find` without the promise, for callers on a hot path. */
  findNow(rel: string): TreeFile | undefined {
    const f = this.locate(rel);
    return f === OUTSIDE ? undefined : f;
  }

  /** A file or directory of the tree; OUTSIDE when a link leads out of the root. */
  private locate(rel: string): TreeFile | typeof OUTSIDE | undefined {
    let root: string;
    try {
      root = this.realRoot();
    } catch {
      return undefined; // the root itself is gone: nothing to serve
    }
    for (const candidate of this.variants(rel)) {
      const abs = candidate === '' ? root : join(root, candidate);
      let st: Stats | undefined = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      // A symlink inside the tree may point anywhere: follow it only if it lands inside the root.
      // A plain file needs no realpath of its own, only its directory's (cached, see realDir).
      let real: string;
      if (st.isSymbolicLink()) {
        try {
          real = realpathSync.native(abs);
          st = statSync(abs);
        } catch {
          return undefined; // dangling link
        }
      } else {
        const slash = abs.lastIndexOf(sep);
        const dir = abs === root ? undefined : this.realDir(abs.slice(0, slash));
        if (abs !== root && dir === undefined) return undefined;
        real = abs === root ? root : dir + abs.slice(slash);
      }
      if (real !== root && !real.startsWith(root + sep)) return OUTSIDE;
      return {
        rel: candidate,
        abs: real,
        size: st.size,
        mtime: st.mtime,
        etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`,
        isDirectory: st.isDirectory(),
        ino: st.ino,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
      };
    }
    return undefined;
  }

  /**
   * A directory's real path, remembered for a second: the files of one directory are asked for
   * thousands of times a second in a boot storm, and a directory swapped for a symlink is an
   * administrator's act that may take that long to be seen.
   */
  private realDir(dir: string): string | undefined {
    const root = this.rootReal!;
    if (dir === root) return root;
    const now = Date.now();
    const hit = this.dirs.get(dir);
    if (hit && now - hit.at < 1000) return hit.real;
    let real: string | undefined;
    try {
      real = realpathSync.native(dir);
    } catch {
      real = undefined;
    }
    if (this.dirs.size > 10_000) this.dirs.clear();
    this.dirs.set(dir, { real, at: now });
    return real;
  }

  /** The file's bytes when they are in memory (small files read before), else undefined. */
  cached(file: TreeFile): Buffer | undefined {
    const hit = this.content.get(file.abs);
    if (!hit) return undefined;
    if (hit.ino !== file.ino || hit.size !== file.size || hit.mtimeMs !== file.mtimeMs || hit.ctimeMs !== file.ctimeMs) {
      this.drop(file.abs);
      return undefined;
    }
    // Least recently used goes first: move the hit to the end of the insertion order.
    this.content.delete(file.abs);
    this.content.set(file.abs, hit);
    return hit.body;
  }

  /**
   * The whole file, from memory when it is there. Small files are cached after this read;
   * `undefined` when the file is too large to cache (stream it with `open`).
   */
  async load(file: TreeFile): Promise<Buffer | undefined> {
    const hit = this.cached(file);
    if (hit) return hit;
    if (file.size > this.maxFile) return undefined;
    const body = await fsp.readFile(file.abs);
    // The file changed between stat and read: serve what was read, but do not cache it under
    // the old version's identity.
    if (body.length !== file.size) return body;
    this.remember(file, body);
    return body;
  }

  private remember(file: TreeFile, body: Buffer): void {
    if (this.maxTotal === 0) return;
    this.drop(file.abs);
    while (this.cachedBytes + body.length > this.maxTotal && this.content.size) {
      this.drop(this.content.keys().next().value as string);
    }
    this.content.set(file.abs, { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs, ctimeMs: file.ctimeMs, body });
    this.cachedBytes += body.length;
  }

  private drop(abs: string): void {
    const old = this.content.get(abs);
    if (!old) return;
    this.content.delete(abs);
    this.cachedBytes -= old.body.length;
  }

  open(file: TreeFile, range?: ByteRange): Readable {
    const body = this.cached(file);
    if (body) return Readable.from([range ? body.subarray(range.start, range.end + 1) : body], { objectMode: false });
    // 256 KiB reads: fewer system calls and thread-pool round trips per gigabyte of firmware
    // than the 64 KiB default (bench http, firmware CPU-s/GB).
    return createReadStream(file.abs, { start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
  }

  /**
   * The file's bytes (or a range of them) as chunks read into two pooled buffers in turn: the
   * next chunk is read while the caller sends this one. A yielded chunk is valid only until the
   * caller asks for the next one (or ends the loop), so the caller must have finished with it
   * (its socket write flushed) by then. Streaming an image this way allocates nothing per
   * chunk: fresh buffers per chunk drove V8 into full collections, about half the CPU per GB
   * (bench http, firmware).
   */
  async *chunks(file: TreeFile, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
    const end = range ? range.end + 1 : file.size;
    let pos = range ? range.start : 0;
    if (pos >= end) return;
    const fh = await fsp.open(file.abs, 'r');
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

  /** The whole content of a file already found, from memory when small. */
  async contents(file: TreeFile): Promise<Buffer> {
    return (await this.load(file)) ?? fsp.readFile(file.abs);
  }

  // --- TreeSource: the resolver's and the linter's view ---------------------------------------

  /**
   * Bytes of a file, or null when there is no such regular file. Throws PP_PATH_HOSTILE for
   * hostile paths and for links that resolve outside the root, so lint and explain can say so.
   */
  async read(path: string): Promise<Buffer | null> {
    const f = this.locate(safeSegments(path).join('/'));
    if (f === OUTSIDE) throw outsideRoot(path);
    if (!f || f.isDirectory) return null;
    return this.contents(f);
  }

  async exists(path: string): Promise<boolean> {
    const f = this.locate(safeSegments(path).join('/'));
    if (f === OUTSIDE) throw outsideRoot(path);
    return f !== undefined && !f.isDirectory;
  }

  /** Every regular file under the root, sorted, skipping dot-directories; links are followed only to files inside the root. */
  async *list(): AsyncIterable<string> {
    const root = this.realRoot();
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
    yield* walk(this.root, '');
  }

  /** Entries of one directory of the tree (names only, no dot files), for FTP LIST. */
  async entries(rel: string): Promise<{ name: string; size: number; mtime: Date; isDirectory: boolean }[] | undefined> {
    const dir = this.findNow(rel);
    if (!dir || !dir.isDirectory) return undefined;
    const out: { name: string; size: number; mtime: Date; isDirectory: boolean }[] = [];
    for (const name of await fsp.readdir(dir.abs)) {
      if (name.startsWith('.')) continue;
      const f = this.findNow(rel === '' ? name : `${rel}/${name}`);
      if (f) out.push({ name, size: f.size, mtime: f.mtime, isDirectory: f.isDirectory });
    }
    return out;
  }
}

function outsideRoot(path: string): ProvError {
  return new ProvError('PP_PATH_HOSTILE', `path "${path}" is a link that resolves outside the provisioning root`, {
    hint: 'Copy the file into the tree instead of linking to it.',
  });
}
