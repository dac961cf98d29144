// Directories as the core presents them: CWD asks the core to `stat` the directory, LIST/NLST
// ask it to `list` (the phone-visible files of a directory, or the one file a path names;
// Administrator's Guide, Boot Server Security Policy: the phone's account "must also be able to
// list files in all directories mentioned in the <MAC-address>.cfg").
import type { DirectoryEntry } from '../../core/request.ts';
import type { ErrorCode } from '../../errors.ts';
import type { FtpSession } from './control.ts';

/** CWD: true if `path` is a directory the phone may enter, false if there is none, else the refusal. */
export async function probeDirectory(s: FtpSession, path: string): Promise<true | false | ErrorCode> {
  if (path === '/') return true;
  const res = await s.cfg.service.handle(s.request('stat', path, false));
  if (res.kind === 'file') return res.directory === true;
  if (res.kind !== 'refused') return false;
  // A core that refuses directory stats refuses to list the directory, not to enter it.
  if (res.error.code === 'PP_LISTING_REFUSED') return true;
  return res.error.code === 'PP_NOT_FOUND' ? false : res.error.code;
}

/** LIST/NLST entries for `path`: a directory's files, or the one file `path` names. */
export async function listEntries(s: FtpSession, path: string): Promise<DirectoryEntry[] | ErrorCode> {
  const res = await s.cfg.service.handle(s.request('list', path, true));
  if (res.kind === 'listing') return res.entries;
  return res.kind === 'refused' ? res.error.code : 'PP_INTERNAL';
}

/** LIST and NLST arguments may start with `ls` flags (`LIST -la`, sent by many clients); they are ignored. */
export function listTarget(arg: string): string {
  const words = arg.trim().split(/\s+/);
  while (words.length > 0 && words[0]!.startsWith('-')) words.shift();
  return words.join(' ');
}
