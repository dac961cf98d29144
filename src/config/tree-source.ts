// The provisioning tree on disk: the one reader behind the boot server's serving path, the
// resolver (`explain`), `lint` and the CLI. It stats and streams files with byte ranges, matches
// MAC names in either letter case (Administrator's Guide, master configuration file: "For A-F
// hexadecimal digits, use upper or lower case"; facts §1.1), and never reaches outside the root
// (hostile paths are refused, symlinks are followed only when their target stays inside it).
//
// Several nodes may read one tree (issue 16: a shared directory, NFS or any shared mount), so a
// file's ETag comes from its bytes (tree-validators.ts), never from its inode or mtime: every node
// answers the same validator for the same content. The serving tree keeps what a lookup found
// for `recheckMs` (tree-stat-cache.ts: no stat per request; an edit on the share is served
// within that bound, a local edit at once where inotify sees it).
//
// Speed (README "The serving path"; bench http): metadata lookups are synchronous system calls
// (stat, realpath), as nginx's worker makes them. Small files are read and hashed when a new
// version is first found and kept in memory, keyed by device, inode, size, mtime and ctime; the
// cache is bounded in bytes and drops least recently used entries first. Large files (images)
// are looked up on every request and hashed once per version in a stream (`settle`).
import { createReadStream, promises as fsp, lstatSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { ProvError } from '../errors.ts';
import { readChunks, sharedChunks, walkTree } from './tree-io.ts';
import { SharedReads } from './shared-reads.ts';
import { macVariants, safeSegments, type ByteRange } from './tree-paths.ts';
import { NOT_CACHED, StatCache } from './tree-stat-cache.ts';
import { contentEtag, hashFile, knownEtag, rememberEtag } from './tree-validators.ts';
import type { TreeSource } from './types.ts';

export { hasMacName, safeSegments, type ByteRange } from './tree-paths.ts';

const OUTSIDE = Symbol('outside the root');

export interface TreeFile {
  rel: string;
  abs: string;
  size: number;
  mtime: Date;
  /** Strong ETag from the content (`hashed: false`: not hashed yet, a stand-in until `settle`). */
  etag: string;
  isDirectory: boolean;
  /** Identity of this version of the file, for the content cache. */
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  dev?: number;
  /** False for a large file whose content ETag is not known yet (see TreeFiles.settle). */
  hashed?: boolean;
  /** Reached through a symbolic link (looked up every time: the link's target may change). */
  link?: boolean;
}

export interface TreeFilesOptions {
  /** Large files read once for all their concurrent readers (default: the process's SharedReads; null: stream per read). */
  sharedReads?: SharedReads | null;
  /** Files up to this size are kept in memory once read (default 256 KiB). */
  cacheFileBytes?: number;
  /** Memory for cached contents, all files together (default 64 MiB; 0 turns the cache off). */
  cacheTotalBytes?: number;
  /**
   * Keep what a lookup found this long (ms) before looking again (default 0: every lookup is a
   * stat). The boot service's tree uses 1,000: an edit on a shared tree is served within a second.
   */
  recheckMs?: number;
  /** With recheckMs: watch the tree's directories so a local edit is seen at once (default false). */
  watch?: boolean;
}

interface CachedContent {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  body: Buffer;
  etag: string;
  seq: number; // the cache's move count when this entry last went to the end of the order
}

type Found = TreeFile | typeof OUTSIDE | undefined;

/** One SharedReads for the process: every tree (tenants' overlays included) shares a file's one copy. */
const PROCESS_SHARED_READS = new SharedReads();

export class TreeFiles implements TreeSource {
  private rootReal: string | undefined;
  private readonly dirs = new Map<string, { real: string | undefined; at: number }>();
  private readonly content = new Map<string, CachedContent>();
  private cachedBytes = 0;
  private seq = 0; // moves to the end of the least-recently-used order so far
  private readonly maxFile: number;
  private readonly maxTotal: number;
  /** Files up to this size are hashed when found (they are read anyway); larger ones in `settle`. */
  private readonly smallFile: number;
  private readonly stats: StatCache<Found> | undefined;
  private readonly sharedReads: SharedReads | null;

  readonly root: string;

  constructor(root: string, opts: TreeFilesOptions = {}) {
    this.root = resolve(root);
    this.maxTotal = opts.cacheTotalBytes ?? 64 << 20;
    this.smallFile = opts.cacheFileBytes ?? 256 << 10;
    this.maxFile = Math.min(this.smallFile, this.maxTotal);
    this.sharedReads = opts.sharedReads === undefined ? PROCESS_SHARED_READS : opts.sharedReads;
    if (opts.recheckMs) this.stats = new StatCache<Found>(this.root, { recheckMs: opts.recheckMs, watch: opts.watch ?? false });
  }

  /** Forgets what the stat cache holds: the next lookups stat again. */
  recheck(): void {
    this.stats?.invalidate();
  }

  /** Stops watching the tree (a server closing). */
  close(): void {
    this.stats?.close();
  }

  private realRoot(): string {
    if (this.rootReal === undefined) this.rootReal = realpathSync.native(this.root);
    return this.rootReal;
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

  /**
   * A file or directory of the tree; OUTSIDE when a link leads out of the root. From the stat
   * cache when it holds the answer: a miss, a directory or a small plain file (its bytes in
   * memory, so the version found is the version served). Links and large files are looked up
   * every time: their bytes are read later from the path, so their size and ETag must be now's.
   */
  private locate(rel: string): Found {
    const stats = this.stats;
    if (!stats) return this.lookup(rel);
    const now = Date.now();
    const hit = stats.get(rel, now);
    if (hit !== NOT_CACHED) return hit;
    stats.watchFor(join(this.root, rel));
    const f = this.lookup(rel);
    if (f === undefined || f === OUTSIDE || f.isDirectory || (f.hashed === true && !f.link && f.size <= this.smallFile)) stats.set(rel, f, now);
    return f;
  }

  private lookup(rel: string): Found {
    let root: string;
    try {
      root = this.realRoot();
    } catch {
      return undefined; // the root itself is gone: nothing to serve
    }
    for (const candidate of macVariants(rel)) {
      const abs = candidate === '' ? root : join(root, candidate);
      let st: Stats | undefined = lstatSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      // A symlink inside the tree may point anywhere: follow it only if it lands inside the root.
      // A plain file needs no realpath of its own, only its directory's (cached, see realDir).
      let real: string;
      const link = st.isSymbolicLink();
      if (link) {
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
      const f: TreeFile = {
        rel: candidate,
        abs: real,
        size: st.size,
        mtime: st.mtime,
        // A directory is never sent: its tag only tells its versions apart on this node.
        etag: `"d-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`,
        isDirectory: st.isDirectory(),
        ino: st.ino,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        dev: st.dev,
        link,
      };
      if (!f.isDirectory) this.validate(f);
      return f;
    }
    return undefined;
  }

  /**
   * Gives a file found its content ETag: known for this version, or (a small file) read and
   * hashed now, its bytes kept in memory for the read that follows. A large file not hashed yet
   * gets a stand-in and `hashed: false` (`settle` hashes it). A file read while being rewritten
   * (fewer or more bytes than its stat said) is described by what was read and not remembered.
   */
  private validate(f: TreeFile): void {
    const known = this.cachedEntry(f) ?? knownEtag(f);
    if (known !== undefined) {
      f.etag = known;
      f.hashed = true;
      return;
    }
    if (f.size > this.smallFile) {
      f.etag = `"s-${f.size.toString(16)}-${Math.floor(f.mtimeMs).toString(16)}-${f.ino.toString(16)}"`;
      f.hashed = false;
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(f.abs);
    } catch {
      f.hashed = false; // gone or unreadable since the stat: the read will say so
      return;
    }
    f.etag = contentEtag(body);
    if (body.length !== f.size) {
      f.size = body.length;
      f.ctimeMs = -1; // no later stat matches this identity
      f.hashed = false;
      this.remember(f, body);
      return;
    }
    rememberEtag(f, f.etag);
    this.remember(f, body);
    f.hashed = true;
  }

  /** The ETag of the cached bytes of this version, when they are in memory. */
  private cachedEntry(f: TreeFile): string | undefined {
    const hit = this.content.get(f.abs);
    return hit && hit.ino === f.ino && hit.size === f.size && hit.mtimeMs === f.mtimeMs && hit.ctimeMs === f.ctimeMs ? hit.etag : undefined;
  }

  /**
   * The content ETag of a file found, hashing a large one once per version (in a stream; callers
   * that ask together share the pass). Sets `etag` on `file`.
   */
  async settle(file: TreeFile): Promise<string> {
    if (file.hashed !== false || file.isDirectory || file.abs === '') return file.etag;
    if (file.size <= this.maxFile && (await this.load(file))) return file.etag; // load sets it
    file.etag = await hashFile(file.abs, file);
    file.hashed = true;
    return file.etag;
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
    // Least recently used goes first: the hit moves to the end of the order unless it is in the newer half (issue 16, Speed).
    if (this.seq - hit.seq > this.content.size >> 1) {
      this.content.delete(file.abs);
      hit.seq = ++this.seq;
      this.content.set(file.abs, hit);
    }
    return hit.body;
  }

  /** The whole file, from memory when it is there (small files are cached); undefined when too large to cache (stream it). */
  async load(file: TreeFile): Promise<Buffer | undefined> {
    const hit = this.cached(file);
    if (hit) return hit;
    if (file.size > this.maxFile) return undefined;
    const body = await fsp.readFile(file.abs);
    // The bytes may be a newer version than the one found (edited since): the file is described by
    // what was read, not remembered under the old version's identity.
    const etag = contentEtag(body);
    if (etag !== file.etag || body.length !== file.size) {
      file.etag = etag;
      file.size = body.length;
      file.ctimeMs = -1;
      file.hashed = true;
      return body;
    }
    this.remember(file, body);
    return body;
  }

  private remember(file: TreeFile, body: Buffer): void {
    if (this.maxTotal === 0) return;
    this.drop(file.abs);
    while (this.cachedBytes + body.length > this.maxTotal && this.content.size) {
      this.drop(this.content.keys().next().value as string);
    }
    this.content.set(file.abs, { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs, ctimeMs: file.ctimeMs, body, etag: file.etag, seq: ++this.seq });
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
   * The file's bytes (or a range of them): slices of the one copy every reader of this version
   * shares while it is read (shared-reads.ts), else chunks read into pooled buffers in turn: the
   * next chunk is read while the caller sends this one. A yielded chunk is valid only until the
   * caller asks for the next one (or ends the loop), so the caller must have finished with it
   * (its socket write flushed) by then. Streaming an image this way allocates nothing per
   * chunk: fresh buffers per chunk drove V8 into full collections, about half the CPU per GB
   * (bench http, firmware).
   */
  chunks(file: TreeFile, range?: ByteRange): AsyncGenerator<Buffer, void, undefined> {
    return this.sharedReads ? sharedChunks(this.sharedReads, file, range) : readChunks(file.abs, file.size, range);
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
  list(): AsyncIterable<string> {
    return walkTree(this.realRoot(), this.root);
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
