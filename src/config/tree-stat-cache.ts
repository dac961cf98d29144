// The tree's stat cache (issue 16, Several nodes, and Speed): what a lookup of a tree path found
// (a file, a directory, nothing), kept for `recheckMs` so a boot storm's thousands of reads a
// second of the same names cost no system call each. Change detection does not need inotify:
// an entry is looked up again at most `recheckMs` after it was taken, so an edit on a shared
// directory (NFS: no inotify across hosts) is served by every node within that bound (default
// 1 s). Where the directory is local, an inotify watch of it (`watch`) drops every entry at the
// first change, so an edit made on this host is served at once; a watch that cannot be set
// (no inotify, too many watches, a file system without it) leaves the time bound alone in force.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export const NOT_CACHED = Symbol('not cached');

export interface StatCacheOptions {
  /** An entry is looked up again after this long (ms). */
  recheckMs: number;
  /** Watch the directories of cached entries, dropping every entry on a change (local trees). */
  watch: boolean;
}

/** Entries kept at most; beyond, the cache starts again (a storm of random names cannot grow it). */
const MAX_ENTRIES = 100_000;
/** Directories watched at most; beyond, the time bound alone applies. */
const MAX_WATCHES = 1_000;

export class StatCache<T> {
  private readonly entries = new Map<string, { at: number; gen: number; value: T }>();
  private readonly watched = new Map<string, FSWatcher | null>();
  /** Bumped on every change a watch sees: entries of an older generation are not used. */
  private gen = 0;

  constructor(
    private readonly root: string,
    private readonly o: StatCacheOptions,
  ) {}

  get(key: string, now: number): T | typeof NOT_CACHED {
    const e = this.entries.get(key);
    if (e === undefined || e.gen !== this.gen || now - e.at >= this.o.recheckMs) return NOT_CACHED;
    return e.value;
  }

  /**
   * Keeps an entry, and lets go of the ones no `get` can use any more (older than `recheckMs`, or
   * of an older generation): a boot storm of 10,000 phones looks up about 100,000 names (each
   * phone's own files and misses), and keeping them all until the size bound held tens of MB
   * after their second was up. Entries are in the order they were set (a name set again moves to
   * the end), so the dead ones are at the front and the sweep stops at the first live one.
   */
  set(key: string, value: T, now: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.delete(key);
    this.entries.set(key, { at: now, gen: this.gen, value });
    for (const [k, e] of this.entries) {
      if (e.gen === this.gen && now - e.at < this.o.recheckMs) break;
      this.entries.delete(k);
    }
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (a change seen, or asked by a test). */
  invalidate(): void {
    this.gen++;
  }

  /**
   * Watches the directory `abs` is in (or its nearest existing ancestor inside the root) before
   * it is looked up, so a change after the lookup is seen. Once per directory.
   */
  watchFor(abs: string): void {
    if (!this.o.watch) return;
    let dir = dirname(abs);
    for (let i = 0; i < 64; i++) {
      if (this.watched.has(dir)) return;
      if (this.watched.size >= MAX_WATCHES) return;
      try {
        const w = watch(dir, { persistent: false }, () => this.invalidate());
        w.on('error', () => {
          w.close();
          this.watched.set(dir, null);
          this.invalidate();
        });
        this.watched.set(dir, w);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A directory that does not exist yet: its parent sees it created.
        if ((code === 'ENOENT' || code === 'ENOTDIR') && dir !== this.root && dir.startsWith(this.root)) {
          dir = dirname(dir);
          continue;
        }
        this.watched.set(dir, null);
        return;
      }
    }
  }

  close(): void {
    for (const w of this.watched.values()) w?.close();
    this.watched.clear();
    this.entries.clear();
  }
}
