// Files of the provisioning tree, as the core serves them: stat and stream with byte ranges,
// MAC names in either letter case (polycom-facts §1.1: "For A-F hexadecimal digits, use upper
// or lower case"), never anything outside the root (symlinks are followed only when their
// target stays inside it). Streams are opened lazily so a phone that reads an image header
// and hangs up costs one open and one close.
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange } from './request.ts';

export interface TreeFile {
  rel: string;
  abs: string;
  size: number;
  mtime: Date;
  etag: string;
  isDirectory: boolean;
}

export class TreeFiles {
  private rootReal: string | undefined;

  constructor(readonly root: string) {}

  private async realRoot(): Promise<string> {
    if (this.rootReal === undefined) this.rootReal = await fsp.realpath(this.root);
    return this.rootReal;
  }

  /** Name variants to try: as asked, then the MAC prefix in lower and upper case. */
  private variants(rel: string): string[] {
    const i = rel.lastIndexOf('/');
    const dir = i < 0 ? '' : rel.slice(0, i + 1);
    const base = i < 0 ? rel : rel.slice(i + 1);
    const m = /^[0-9a-fA-F]{12}(?=[-.])/.exec(base);
    if (!m) return [rel];
    const lower = dir + m[0].toLowerCase() + base.slice(12);
    const upper = dir + m[0].toUpperCase() + base.slice(12);
    return [...new Set([rel, lower, upper])];
  }

  /** Finds a file (or directory) of the tree, or undefined. Never returns a path outside the root. */
  async find(rel: string): Promise<TreeFile | undefined> {
    const root = await this.realRoot();
    for (const candidate of this.variants(rel)) {
      const abs = candidate === '' ? root : join(root, candidate);
      let st: Stats;
      try {
        st = await fsp.stat(abs);
      } catch {
        continue;
      }
      // A symlink inside the tree may point anywhere: follow it only if it lands inside the root.
      const real = await fsp.realpath(abs).catch(() => undefined);
      if (!real || (real !== root && !real.startsWith(root + sep))) return undefined;
      return {
        rel: candidate,
        abs: real,
        size: st.size,
        mtime: st.mtime,
        etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`,
        isDirectory: st.isDirectory(),
      };
    }
    return undefined;
  }

  open(file: TreeFile, range?: ByteRange): Readable {
    // 64 KiB reads: measurably fewer syscalls than the 16 KiB default when streaming images (bench http firmware).
    return createReadStream(file.abs, { start: range?.start, end: range?.end, highWaterMark: 64 * 1024 });
  }

  async read(rel: string): Promise<Buffer | null> {
    const f = await this.find(rel);
    if (!f || f.isDirectory) return null;
    return fsp.readFile(f.abs);
  }

  /** Entries of a directory of the tree (names only, no dot files), for FTP LIST. */
  async list(rel: string): Promise<{ name: string; size: number; mtime: Date; isDirectory: boolean }[] | undefined> {
    const dir = await this.find(rel);
    if (!dir || !dir.isDirectory) return undefined;
    const out: { name: string; size: number; mtime: Date; isDirectory: boolean }[] = [];
    for (const name of await fsp.readdir(dir.abs)) {
      if (name.startsWith('.')) continue;
      const f = await this.find(rel === '' ? name : `${rel}/${name}`);
      if (f) out.push({ name, size: f.size, mtime: f.mtime, isDirectory: f.isDirectory });
    }
    return out;
  }
}
