// Wire formats of the FTP replies polyprov sends: RFC 959 §4.2 reply lines, RFC 3659 §2.3 times,
// RFC 959 §4.1.2 / RFC 2428 §3 passive addresses, and the `ls -l` lines LIST has always carried.
import { ERRORS, type ErrorCode } from '../../errors.ts';

/** RFC 959 §4.2: one line `code text`, or `code-first … code last` for several lines. */
export function formatReply(code: number, text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/\r/g, ''));
  if (lines.length === 1) return `${code} ${lines[0]}\r\n`;
  const last = lines.pop();
  return `${code}-${lines.join('\r\n ')}\r\n${code} ${last}\r\n`;
}

/** RFC 3659 §2.3 time-val: YYYYMMDDHHMMSS in UTC. */
export function formatMdtm(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HALF_YEAR_MS = 182 * 24 * 3600 * 1000;

/** One LIST line in the `ls -l` shape every client parses (there is no RFC for it; RFC 959 leaves it open). */
export function formatListLine(e: { name: string; size: number; mtime: Date }, now: Date): string {
  const d = e.mtime;
  const day = String(d.getUTCDate()).padStart(2, ' ');
  const recent = Math.abs(now.getTime() - d.getTime()) < HALF_YEAR_MS;
  const when = recent
    ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    : ` ${d.getUTCFullYear()}`;
  return `-r--r--r--    1 ftp      ftp      ${String(e.size).padStart(12, ' ')} ${MONTHS[d.getUTCMonth()]} ${day} ${when} ${e.name}\r\n`;
}

/** A name that would break the listing's line framing is left out rather than mangled. */
export function listableName(name: string): boolean {
  return name.length > 0 && !/[\r\n\0/]/.test(name);
}

/** RFC 959 §4.1.2 PASV reply: `227 … (h1,h2,h3,h4,p1,p2)`; IPv4 only. */
export function pasvReply(ipv4: string, port: number): string {
  return `Entering Passive Mode (${ipv4.split('.').join(',')},${port >> 8},${port & 0xff}).`;
}

/** RFC 2428 §3 EPSV reply: `229 … (|||port|)`. */
export function epsvReply(port: number): string {
  return `Entering Extended Passive Mode (|||${port}|)`;
}

/** The FTP reply code for a refusal, from the one catalogue (src/errors.ts). */
export function ftpCodeOf(code: ErrorCode): number {
  const def = ERRORS[code] as { ftp?: number };
  return def.ftp ?? 550;
}

/** The short reason a refusal carries on the wire: the catalogue summary, never the detail (it stays in the log). */
export function refusalText(code: ErrorCode): string {
  return `${ERRORS[code].summary} (${code})`;
}
