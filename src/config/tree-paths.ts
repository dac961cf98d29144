// Paths of the provisioning tree: splitting a requested path safely (nothing leaves the root),
// byte ranges, and the letter-case variants of a MAC file name (Administrator's Guide, master
// configuration file: "For A-F hexadecimal digits, use upper or lower case"; facts §1.1).
import { ProvError } from '../errors.ts';

/** A byte range, both ends inclusive (HTTP Range, FTP REST). */
export interface ByteRange {
  start: number;
  end: number;
}

/** A run of 12 hex digits not inside a longer hex run: the MAC part of a file name. */
const MAC_IN_NAME = /(^|[^0-9A-Fa-f])[0-9A-Fa-f]{12}([^0-9A-Fa-f]|$)/;
const MAC_RUNS = /(^|[^0-9A-Fa-f])([0-9A-Fa-f]{12})(?![0-9A-Fa-f])/g;

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

/**
 * Name variants to try: as asked, then its MAC digits in lower and then upper case ("For A-F
 * hexadecimal digits, use upper or lower case", Administrator's Guide; facts §1.1). Only the
 * MAC digits are case-blind; the rest of the name must match exactly. Two extra stats on a
 * miss, never a directory read: phones ask for many names that do not exist (`<MAC>.cfg`,
 * `<MAC>-phone.cfg`), thousands a second in a boot storm.
 */
export function macVariants(rel: string): string[] {
  const i = rel.lastIndexOf('/');
  const base = i < 0 ? rel : rel.slice(i + 1);
  if (!MAC_IN_NAME.test(base)) return [rel];
  const dir = i < 0 ? '' : rel.slice(0, i + 1);
  const lower = dir + base.replace(MAC_RUNS, (_m, pre: string, hex: string) => pre + hex.toLowerCase());
  const upper = dir + base.replace(MAC_RUNS, (_m, pre: string, hex: string) => pre + hex.toUpperCase());
  return rel === lower ? [rel, upper] : rel === upper ? [rel, lower] : [rel, lower, upper];
}
