// The names a phone gives its files (Administrator's Guide, "Master Configuration Files"; white
// paper, uploads): `<MAC>.cfg`, `<MAC>-phone.cfg`, `<MAC>-app.log`. Part of the phone layout
// (phone-layout.ts re-exports these); read by character codes, no regular expression: every request
// asks them of its file name several times (issue 16, Speed).
import type { Mac } from '../domain.ts';

/** 000000000000: the default master's name, no phone. */
const ZERO_MAC = '000000000000';

/**
 * Whether the 12 characters of `s` from `start` are hex digits: 0 no, 1 all lower case or digits,
 * 2 some upper case. Character codes, no regular expression: every request asks this of its file
 * name several times (issue 16, Speed: the per-phone file's profile).
 */
function hex12(s: string, start: number): 0 | 1 | 2 {
  if (s.length < start + 12) return 0;
  let upper = false;
  for (let i = start; i < start + 12; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue; // 0-9
    const l = c | 32;
    if (l < 97 || l > 102) return 0; // not a-f / A-F
    if (c !== l) upper = true;
  }
  return upper ? 2 : 1;
}

/**
 * The phone a file belongs to (`overrides/0004F2000001-phone.cfg` → 0004f2000001), if any: 12 hex
 * digits at the start of its name, followed by `-`, `.`, `_` or nothing. 000000000000 is no phone.
 */
export function macOfName(path: string): Mac | undefined {
  const start = path.lastIndexOf('/') + 1;
  const end = start + 12;
  if (path.length > end) {
    const next = path.charCodeAt(end);
    if (next !== 45 && next !== 46 && next !== 95) return undefined; // - . _
  }
  const kind = hex12(path, start);
  if (kind === 0) return undefined;
  const mac = kind === 1 ? path.slice(start, end) : path.slice(start, end).toLowerCase();
  return mac !== ZERO_MAC ? (mac as Mac) : undefined;
}

/** `<MAC>.cfg` or `000000000000.cfg`, in any directory: the names a phone asks for as its master file. */
export function isMasterName(path: string): boolean {
  const start = path.lastIndexOf('/') + 1;
  if (path.length !== start + 16 || path.charCodeAt(start + 12) !== 46) return false;
  // `.cfg` exactly, as the phone asks for it.
  return path.charCodeAt(start + 13) === 99 && path.charCodeAt(start + 14) === 102 && path.charCodeAt(start + 15) === 103 && hex12(path, start) !== 0;
}
