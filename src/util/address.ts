// The one spelling of a peer's address that the server compares, logs, audits and matches against
// CIDR lists: an IPv4 client of a dual-stack socket is reported by Node as an IPv4-mapped IPv6
// address (RFC 4291 §2.5.5.2, `::ffff:10.0.0.5`, or in hex groups `::ffff:a00:5`), and is the
// same phone as `10.0.0.5` over a v4 socket. Ground floor: imports nothing of the project.
import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail counts as the last two). */
function groupsOf(v6: string): number[] {
  let s = v6;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, lastColon + 1)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const front = parse(head);
  if (rest === undefined) return front;
  const back = parse(rest);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * `::ffff:1.2.3.4`, `::FFFF:7f00:1`, `[::ffff:1.2.3.4]`, `0:0:0:0:0:ffff:1.2.3.4` → the IPv4
 * address; other IPv6 addresses lose their brackets and keep their zone id (`fe80::1%eth0`: a
 * link-local peer is only reachable through it); anything else is returned as given. Undefined
 * or empty (a socket already closed) → ''.
 */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  // Called on every request: the common forms return without parsing.
  if (!address.includes(':')) return address; // IPv4, or not an address
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7); // how Node reports a v4 peer of a dual-stack socket
  if (!/ffff/i.test(a)) return a; // IPv6 that cannot be IPv4-mapped
  const pct = a.indexOf('%');
  const bare = pct < 0 ? a : a.slice(0, pct);
  if (!isIPv6(bare)) return a;
  const g = groupsOf(bare.toLowerCase());
  if (g.length === 8 && g[5] === 0xffff && g.slice(0, 5).every((x) => x === 0)) {
    return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  return a;
}

/** An address or network as allow-lists write it (`10.0.0.0/8`, `192.168.1.5`, `2001:db8::/32`); undefined when it is not one. */
export function parseCidr(cidr: string): { net: string; bits: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [net, bitsText, extra] = cidr.split('/');
  if (extra !== undefined || !net) return undefined;
  const type = isIPv4(net) ? 'ipv4' : isIPv6(net) ? 'ipv6' : undefined;
  if (!type) return undefined;
  const max = type === 'ipv4' ? 32 : 128;
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = bitsText === undefined ? max : Number(bitsText);
  return bits <= max ? { net, bits, type } : undefined;
}
