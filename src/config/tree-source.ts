// A provisioning tree read from a directory on disk. The resolver and the linter only see the
// TreeSource interface, so the boot server can later put its live content behind the same shape.
//
// MAC-named files match in either letter case: "For A-F hexadecimal digits, use upper or lower
// case" (Administrator's Guide, master configuration file; facts §1.1), and phones request lower
// case while administrators often write `0004F2000001.cfg`.
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ProvError } from '../errors.ts';
import type { TreeSource } from './types.ts';

/** A run of 12 hex digits not inside a longer hex run: the MAC part of a file name. */
const MAC_IN_NAME = /(^|[^0-9A-Fa-f])[0-9A-Fa-f]{12}([^0-9A-Fa-f]|$)/;

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

export class DirTreeSource implements TreeSource {
  readonly root: string;
  private rootReal: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private realRoot(): Promise<string> {
    return (this.rootReal ??= realpath(this.root));
  }

  /**
   * The on-disk path of a tree path, or null when there is no such regular file. Throws
   * PP_PATH_HOSTILE for hostile paths and for symlinks that resolve outside the root.
   */
  async locate(path: string): Promise<string | null> {
    const segs = safeSegments(path);
    if (segs.length === 0) return null;
    const dir = join(this.root, ...segs.slice(0, -1));
    const name = segs[segs.length - 1]!;
    let full = join(dir, name);
    if (!(await isPresent(full)) && hasMacName(name)) {
      const alt = await caseInsensitiveMatch(dir, name);
      if (!alt) return null;
      full = join(dir, alt);
    }
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      return null;
    }
    const root = await this.realRoot();
    if (real !== root && !real.startsWith(root + sep)) {
      throw new ProvError('PP_PATH_HOSTILE', `path "${path}" is a link that resolves outside the provisioning root`, {
        hint: 'Copy the file into the tree instead of linking to it.',
      });
    }
    const st = await stat(real).catch(() => null);
    return st?.isFile() ? real : null;
  }

  async read(path: string): Promise<Buffer | null> {
    const full = await this.locate(path);
    if (!full) return null;
    try {
      return await readFile(full);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.locate(path)) !== null;
  }

  /** Every regular file under the root, sorted, skipping dot-directories; links are followed only to files inside the root. */
  async *list(): AsyncIterable<string> {
    const root = await this.realRoot();
    const walk = async function* (abs: string, rel: string): AsyncGenerator<string> {
      let entries;
      try {
        entries = await readdir(abs, { withFileTypes: true });
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
          const real = await realpath(childAbs).catch(() => null);
          if (!real || !real.startsWith(root + sep)) continue;
          const st = await stat(real).catch(() => null);
          if (st?.isFile()) yield childRel;
        }
      }
    };
    yield* walk(this.root, '');
  }
}

async function isPresent(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Prefers the lower-case MAC spelling when several differ only in case (phones request lower case, facts §1.1). */
async function caseInsensitiveMatch(dir: string, name: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return undefined;
  }
  // Only the MAC digits are case-blind; the rest of the name must match exactly.
  const fold = (n: string) => n.replace(/[0-9A-Fa-f]{12}/g, (m) => m.toLowerCase());
  const want = fold(name);
  const hits = entries.filter((e) => fold(e) === want).sort();
  return hits.find((h) => h === want) ?? hits[0];
}
