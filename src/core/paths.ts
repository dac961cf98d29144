// Request paths: every transport hands the core the path as it received it; this module turns
// it into a safe root-relative path or refuses it. Phones only ever ask for plain names
// (`0004f2000001.cfg`, `logs/0004f2000001-app.log`, `2345-12600-001.sip.ld`), so anything
// unusual is refused rather than interpreted: `..`, a second round of percent-encoding,
// backslashes, NUL and other control characters, drive letters, over-long names.
import { ProvError } from '../errors.ts';

export const MAX_PATH_CHARS = 1024;
export const MAX_SEGMENT_CHARS = 255;
/** Segments of letters, digits, `_+-` and inner dots; none is `.` or `..`, none empty. */
const PLAIN_PATH = /^\/?(?:[A-Za-z0-9_+-][A-Za-z0-9._+-]*\/)*[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/;

/**
 * Returns the normalised root-relative path (`a/b.cfg`, `` for the root itself) or throws
 * PP_PATH_HOSTILE. `path` has already been percent-decoded once by HTTP; FTP and TFTP pass
 * theirs as sent.
 */
export function normaliseRequestPath(path: string): string {
  // What phones send (plain names, no dot segments, no doubled slashes) passes one test.
  if (path.length <= MAX_SEGMENT_CHARS && PLAIN_PATH.test(path)) return path.charCodeAt(0) === 47 ? path.slice(1) : path;
  const refuse = (why: string) =>
    new ProvError('PP_PATH_HOSTILE', `path refused: ${why}`, { hint: 'Phones request plain file names below the boot-server root.' });
  if (path.length > MAX_PATH_CHARS) throw refuse(`longer than ${MAX_PATH_CHARS} characters`);
  // Control characters include NUL; phones never send them.
  if (/[\u0000-\u001f\u007f]/.test(path)) throw refuse('control character');
  if (path.includes('\\')) throw refuse('backslash');
  // HTTP passes a target that would not percent-decode as it was sent (`%zz`, `%`): refuse it here,
  // so the refusal is audited and counted like any other.
  if (/%(?![0-9a-fA-F]{2})/.test(path)) throw refuse('malformed percent-encoding');
  // A `%xx` left after HTTP's single decode means double encoding (`%252e%252e`): refuse.
  if (/%[0-9a-fA-F]{2}/.test(path)) throw refuse('percent-encoded after decoding (double encoding)');
  if (/^[a-zA-Z]:/.test(path) || /(^|\/)[a-zA-Z]:(\/|$)/.test(path)) throw refuse('drive letter');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw refuse('".." segment');
    if (seg.length > MAX_SEGMENT_CHARS) throw refuse(`a name longer than ${MAX_SEGMENT_CHARS} characters`);
    out.push(seg);
  }
  return out.join('/');
}

/** Splits `dir/sub/name.cfg` into `dir/sub` and `name.cfg`. */
export function splitPath(rel: string): { dir: string; base: string } {
  const i = rel.lastIndexOf('/');
  return i < 0 ? { dir: '', base: rel } : { dir: rel.slice(0, i), base: rel.slice(i + 1) };
}

/** Joins root-relative directory and name, normalising the directory as the master file wrote it. */
export function joinRel(dir: string, name: string): string {
  const d = dir.replace(/^\.\/+/, '').replace(/^\/+|\/+$/g, '');
  return d === '' || d === '.' ? name : `${d}/${name}`;
}
