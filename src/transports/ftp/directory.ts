// Directories as the core presents them. The core refuses listings as such (PP_LISTING_REFUSED);
// a BootService that implements the optional `list()` answers with the phone-visible files of a
// directory (Administrator's Guide, Boot Server Security Policy: the phone's account "must also be
// able to list files in all directories mentioned in the <MAC-address>.cfg").
import type { DirectoryEntry } from '../../core/request.ts';
import type { ErrorCode } from '../../errors.ts';
import type { FtpSession } from './control.ts';

/** CWD: true if `path` is a directory the phone may enter, false if there is none, else the refusal. */
export async function probeDirectory(s: FtpSession, path: string): Promise<true | false | ErrorCode> {
  if (path === '/') return true;
  const svc = s.cfg.service;
  if (svc.list) {
    const r = await svc.list(s.request('stat', path, false));
    if (Array.isArray(r)) return true;
    return r.code === 'PP_NOT_FOUND' ? false : r.code;
  }
  // Without list(): a stat answers `directory: true` for a directory (or, from a core that refuses
  // directory stats, PP_LISTING_REFUSED: it refuses to list it, not to enter it).
  const res = await svc.handle(s.request('stat', path, false));
  if (res.kind === 'file') return res.directory === true;
  if (res.kind !== 'refused') return false;
  if (res.error.code === 'PP_LISTING_REFUSED') return true;
  return res.error.code === 'PP_NOT_FOUND' ? false : res.error.code;
}

/** LIST/NLST entries for `path`: a directory's files, or the one file `path` names. */
export async function listEntries(s: FtpSession, path: string): Promise<DirectoryEntry[] | ErrorCode> {
  const svc = s.cfg.service;
  if (!svc.list) return 'PP_LISTING_REFUSED';
  const r = await svc.list(s.request('stat', path, true));
  if (Array.isArray(r)) return r;
  if (r.code !== 'PP_NOT_FOUND') return r.code;
  const res = await svc.handle(s.request('stat', path, true));
  if (res.kind !== 'file') return res.kind === 'refused' ? res.error.code : 'PP_NOT_FOUND';
  if (res.directory) return 'PP_LISTING_REFUSED';
  return [{ name: path.slice(path.lastIndexOf('/') + 1), size: res.size, mtime: res.mtime }];
}

/** LIST and NLST arguments may start with `ls` flags (`LIST -la`, sent by many clients); they are ignored. */
export function listTarget(arg: string): string {
  const words = arg.trim().split(/\s+/);
  while (words.length > 0 && words[0]!.startsWith('-')) words.shift();
  return words.join(' ');
}
