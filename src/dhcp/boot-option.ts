// Which DHCP option carries the boot server, and its bytes. Shared by the INFORM responder
// and the configuration snippets so both refuse the same mistakes.
//
// Guide, DHCP Menu: Boot Server 0=Option 66 (string), 1=Custom (option 128–254, Boot Server
// Option Type 0=IP Address / 1=String), 3=Custom+Option 66. The custom option "cannot be the same
// as VLAN ID Option". White paper, Discovering the Provisioning Server, Stage 1: UCS also reads
// option 160 by factory default (a string, like 66).
import { ProvError } from '../errors.ts';
import { parseIPv4 } from './packet.ts';

export type OptionType = 'string' | 'ip';

export interface BootOption {
  code: number;
  type: OptionType;
}

/** Option codes whose value is always a string (guide: "option number 66 (string type)"; UCS 160). */
export const STRING_ONLY_OPTIONS = [66, 160] as const;

export function checkOptionCode(code: number, what = 'boot server option'): void {
  if (!Number.isInteger(code) || !(code === 66 || (code >= 128 && code <= 254))) {
    throw new ProvError('PP_USAGE', `${what} ${code} is not 66, 160 or a custom option 128–254`, {
      hint: "Guide, DHCP Menu: Boot Server Option is 128 through 254; option 66 (and 160 on UCS) carry the server as a string.",
    });
  }
}

/** Resolves `--option`/`--option-type` into checked BootOptions. */
export function bootOptions(codes: readonly number[], type: OptionType | undefined): BootOption[] {
  if (codes.length === 0) codes = [66];
  const out: BootOption[] = [];
  const stringOnly = (c: number) => (STRING_ONLY_OPTIONS as readonly number[]).includes(c);
  for (const code of codes) checkOptionCode(code);
  for (const code of codes) {
    const isStringOnly = stringOnly(code);
    // The type applies to the custom options; with only 66/160 given, "ip" is a mistake worth naming.
    if (type === 'ip' && codes.every(stringOnly)) {
      throw new ProvError('PP_USAGE', `option ${code} carries the boot server as a string; --option-type ip applies to custom options only`, {
        hint: 'Guide, DHCP Menu: Boot Server Option Type is used "when the Boot Server parameter is set to Custom".',
      });
    }
    if (out.some((o) => o.code === code)) continue;
    out.push({ code, type: isStringOnly ? 'string' : (type ?? 'string') });
  }
  return out;
}

/** Characters we accept in a Server Address string: printable ASCII without quotes, backslash or space. */
const SAFE = /^[\x21-\x7e]+$/;

/**
 * The boot server value as the option carries it. A string is any Server Address form (IP,
 * domain name or URL, optional directory); an IP option needs an IPv4 literal, taken from the
 * URL's host when a URL is given (the phone then uses its configured Server Type and path).
 */
export function bootServerValue(server: string, type: OptionType): { text: string; bytes: Buffer } {
  if (type === 'string') {
    if (!SAFE.test(server) || /["'\\]/.test(server)) {
      throw new ProvError('PP_USAGE', `boot server ${JSON.stringify(server)} must be printable ASCII without spaces, quotes or backslashes`, {
        hint: 'Guide, Server Menu: Server Address is a dotted-decimal IP address, a domain name or a URL.',
      });
    }
    if (server.length > 255) throw new ProvError('PP_USAGE', `boot server is ${server.length} characters; one DHCP option holds at most 255`);
    return { text: server, bytes: Buffer.from(server, 'latin1') };
  }
  const host = hostOf(server);
  const ip = host === undefined ? undefined : parseIPv4(host);
  if (!ip || host === undefined) {
    throw new ProvError('PP_USAGE', `boot server ${JSON.stringify(server)} has no IPv4 address for an IP-type option`, {
      hint: 'Guide, DHCP Menu: with Boot Server Option Type "IP Address" the option holds one IPv4 address; give one, or use --option-type string.',
    });
  }
  return { text: host, bytes: ip };
}

function hostOf(server: string): string | undefined {
  if (parseIPv4(server)) return server;
  try {
    const u = new URL(server);
    return u.hostname || undefined;
  } catch {
    // "192.0.2.10/prov" (address followed by a directory) is a valid Server Address too.
    const m = /^([0-9.]+)(?:[:/]|$)/.exec(server);
    return m ? m[1] : undefined;
  }
}
