// The virtual phone's boot server discovery: white paper, "Discovering the Provisioning Server",
// stages 1–4, with the guide's DHCP Menu rules (Boot Server 0=Option 66, 1=Custom, 2=Static,
// 3=Custom+Option 66; Boot Server Option 128–254; Boot Server Option Type IP Address/String).
//
//   Stage 1  the DHCP reply's option (66, also 160 on UCS; or the custom option)
//   Stage 2  a DHCPINFORM, only when the stored boot server is <null> or 0.0.0.0
//            (white paper, Stage 2; guide: "If a boot server value is stored in flash memory
//            and the value is not 0.0.0.0, then the value stored in flash is used")
//   Stage 3  the static boot server (Server Menu, Server Address)
//   Stage 4  the cached configuration
//
// The virtual phone (src/phone/, src/cli/phone.ts) calls, defined further down:
//   discoverBootServer(opts: DiscoveryOptions): Promise<DiscoveryResult>
// Also exported for tests and tools: pickBootServer (one reply), chooseInformAnswer (several
// INFORM answers), isValidServerString (Server Menu address forms).

import { POLYCOM_ENTERPRISE, encodeOption60, parseMac } from '../config/models.ts';
import type { Mac, ModelToken } from '../config/types.ts';
import { DhcpClient, newXid, type Reply } from '../dhcp/client.ts';
import { BOOTREQUEST, MessageType, Opt, chaddrFromMac, encodeDhcp, optionIp, optionText, parseIPv4 } from '../dhcp/packet.ts';

export type BootServerMode = 'option66' | 'custom' | 'static' | 'custom+option66';
export const BOOT_SERVER_MODES: readonly BootServerMode[] = ['option66', 'custom', 'static', 'custom+option66'];

export interface DiscoveryOptions {
  /** The DHCP server (stage 1) as HOST:PORT parts; absent = DHCP client disabled (guide, Server Address). */
  dhcp?: { host: string; port: number };
  /** Where DHCPINFORM goes (stage 2). A phone broadcasts; tests list the servers. Default: [dhcp]. */
  informTargets?: Array<{ host: string; port: number }>;
  /** Client port replies arrive on (68 on a network; a high port in tests). */
  clientPort?: number;
  /** Address the client socket binds; default 0.0.0.0. */
  bindHost?: string;
  /** The phone's own address for ciaddr when stage 1 leased none; default 127.0.0.1. */
  address?: string;
  mac: Mac | string;
  model: ModelToken;
  /** Option 60 contents (facts §5.2). Stage 'bootrom' puts the bootROM version in sub-options 4 and 5. */
  stage?: 'bootrom' | 'application';
  appVersion?: string;
  bootromVersion?: string;
  partNumber?: string;
  mode: BootServerMode;
  /** Boot Server Option (128–254); default 160, the option UCS reads by factory default. */
  customOption?: number;
  /** Boot Server Option Type; default string. */
  optionType?: 'ip' | 'string';
  /** Also read option 160 in option66 modes (UCS, white paper Stage 1); default true. */
  readOption160?: boolean;
  /** Boot server stored in flash (Server Menu); null/'' /'0.0.0.0' mean none. */
  staticServer?: string | null;
  /** Boot server of the cached configuration (stage 4). */
  cached?: string | null;
  /** Each DHCP wait (OFFER, ACK, INFORM answers), in ms. The guide's DHCP Timeout is 1–600 s. */
  timeoutMs: number;
  /** How long to gather INFORM answers; default timeoutMs. */
  informWindowMs?: number;
  /** INFORM retries when nobody answers ("the INFORM query process will retry and eventually time out"); default 1. */
  informRetries?: number;
  /** Skip the DISCOVER/REQUEST exchange (a phone with a static IP but the DHCP menu enabled). */
  skipLease?: boolean;
}

export type DiscoveryStage = 'dhcp' | 'inform' | 'static' | 'cache';

export interface DiscoveryResult {
  /** The boot server to use, or null when none was found (the phone boots from its cache). */
  server: string | null;
  stage: DiscoveryStage;
  /** One human line: which option of which server, or why a stage was passed over. */
  detail: string;
  /** The option the server came from (stages 1–2). */
  option?: number;
  /** The DHCP server that answered (stages 1–2). */
  from?: string;
  /** Address leased in stage 1, when there was one. */
  leasedAddress?: string;
  /** What happened at each stage, in order (for `phone boot` output and tests). */
  trace: string[];
}


// ---------------------------------------------------------------------------------------------

/** Facts §5.2: the IP 650 bootROM example. */
const DEFAULT_BOOTROM = 'BR/4.0.0.0155/23-May-07 13:35';
const DEFAULT_APP = 'SIP/3.1.3.0439/10-Jan-09 10:00';

/**
 * A Server Address as the guide's Server Menu allows it: "dotted-decimal IP address OR domain
 * name string OR URL", each "followed by an optional directory and optional file name".
 * 0.0.0.0 is the factory "no server" value, so it is not a server.
 */
export function isValidServerString(s: string): boolean {
  if (s.length === 0 || s.length > 255 || !/^[\x21-\x7e]+$/.test(s)) return false;
  const url = /^(ftp|tftp|http|https|ftps):\/\/([^/?#]+)(.*)$/i.exec(s);
  let host = url ? url[2] : s.split('/')[0];
  if (url && host.includes('@')) host = host.slice(host.lastIndexOf('@') + 1);
  host = host.replace(/:\d{1,5}$/, '');
  if (parseIPv4(host)) return host !== '0.0.0.0' && host !== '255.255.255.255';
  if (/^[0-9.]+$/.test(host)) return false; // looks numeric but is no address
  return /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host);
}

/** The boot server an option carries, when valid for its type. */
function readOption(options: Map<number, Buffer>, code: number, type: 'ip' | 'string'): string | undefined {
  const v = options.get(code);
  if (!v) return undefined;
  if (type === 'ip') {
    const ip = optionIp(v);
    return ip && ip !== '0.0.0.0' && ip !== '255.255.255.255' ? ip : undefined;
  }
  const text = optionText(v);
  return isValidServerString(text) ? text : undefined;
}

export interface BootServerPick {
  server: string;
  option: number;
}

/**
 * The boot server one DHCP reply gives a phone in `mode` (guide, DHCP Menu): Option 66 reads 66
 * (and 160 on UCS, preferred when both are present, per sipXcom's docs, facts §5.1); Custom reads
 * the custom option in its type; Custom+Option 66 "will first use the custom option if present or
 * use Option 66 if the custom option is not present".
 */
export function pickBootServer(
  options: Map<number, Buffer>,
  o: Pick<DiscoveryOptions, 'mode' | 'customOption' | 'optionType' | 'readOption160'>,
): BootServerPick | undefined {
  const custom = (): BootServerPick | undefined => {
    const code = o.customOption ?? 160;
    const server = readOption(options, code, o.optionType ?? 'string');
    return server ? { server, option: code } : undefined;
  };
  const opt66 = (): BootServerPick | undefined => {
    if (o.readOption160 !== false) {
      const s160 = readOption(options, 160, 'string');
      if (s160) return { server: s160, option: 160 };
    }
    const s66 = readOption(options, Opt.TFTP_SERVER_NAME, 'string');
    return s66 ? { server: s66, option: 66 } : undefined;
  };
  switch (o.mode) {
    case 'option66':
      return opt66();
    case 'custom':
      return custom();
    case 'custom+option66':
      return custom() ?? opt66();
    case 'static':
      return undefined;
  }
}

/**
 * Guide, DHCP Menu, note on several alternate DHCP servers: "If configured for Custom+Option66,
 * the phone will select the first response that contains a valid custom option value. If none of
 * the responses contain a custom option value, the phone will select the first response that
 * contains a valid option66 value." Replies are in arrival order.
 */
export function chooseInformAnswer(replies: Reply[], o: Pick<DiscoveryOptions, 'mode' | 'customOption' | 'optionType' | 'readOption160'>): { pick: BootServerPick; reply: Reply } | undefined {
  const passes: Array<DiscoveryOptions['mode']> = o.mode === 'custom+option66' ? ['custom', 'option66'] : [o.mode];
  for (const mode of passes) {
    for (const reply of replies) {
      const pick = pickBootServer(reply.packet.options, { ...o, mode });
      if (pick) return { pick, reply };
    }
  }
  return undefined;
}

function usable(s: string | null | undefined): s is string {
  return typeof s === 'string' && s.trim() !== '' && s.trim() !== '0.0.0.0';
}

function paramRequestList(o: DiscoveryOptions): Buffer {
  // Guide, DHCP or Manual TCP/IP Setup: mask 1, gateway 3, DNS 6, domain 15, SNTP 42 then 4,
  // GMT offset 2, SIP server 151; plus the boot server options of the DHCP Menu.
  const codes = [1, 3, 6, 15, 42, 4, 2, 151];
  if (o.mode !== 'static') {
    if (o.mode !== 'custom') codes.push(66);
    if (o.mode !== 'custom' && o.readOption160 !== false) codes.push(160);
    if (o.mode === 'custom' || o.mode === 'custom+option66') codes.push(o.customOption ?? 160);
  }
  return Buffer.from([...new Set(codes)]);
}

function vendorClass(o: DiscoveryOptions): Buffer {
  const stage = o.stage ?? 'application';
  const bootrom = o.bootromVersion ?? DEFAULT_BOOTROM;
  // Facts §5.2: "For the BootROM, sub-option 4 and sub-option 5 will contain the same string."
  const app = stage === 'bootrom' ? bootrom : (o.appVersion ?? DEFAULT_APP);
  return encodeOption60({
    enterprise: POLYCOM_ENTERPRISE,
    company: 'Polycom',
    model: o.model,
    ...(o.partNumber ? { partNumber: o.partNumber } : {}),
    hwRevision: '1',
    appVersion: app,
    bootromVersion: bootrom,
  });
}

function request(o: DiscoveryOptions, mac: string, xid: number, type: number, extra: Array<[number, Buffer]>, ciaddr = '0.0.0.0'): Buffer {
  return encodeDhcp({
    op: BOOTREQUEST,
    xid,
    // RFC 2131 §4.1: a client without an address asks for broadcast replies.
    flags: ciaddr === '0.0.0.0' ? 0x8000 : 0,
    ciaddr,
    chaddr: chaddrFromMac(mac),
    options: [
      [Opt.MESSAGE_TYPE, Buffer.from([type])],
      ...extra,
      [Opt.PARAM_REQUEST_LIST, paramRequestList(o)],
      [Opt.VENDOR_CLASS, vendorClass(o)],
    ],
  });
}

/** Runs stages 1–4. Never throws for network silence; throws only for bad options (a caller bug). */
export async function discoverBootServer(o: DiscoveryOptions): Promise<DiscoveryResult> {
  const mac = parseMac(String(o.mac));
  if (!mac) throw new TypeError(`not a MAC address: ${o.mac}`);
  if (o.customOption !== undefined && !(o.customOption >= 128 && o.customOption <= 254)) {
    throw new RangeError(`Boot Server Option ${o.customOption} is outside 128–254 (guide, DHCP Menu)`);
  }
  const trace: string[] = [];
  const cacheResult = (why: string): DiscoveryResult => {
    trace.push(`stage 4: ${why}`);
    return usable(o.cached)
      ? { server: o.cached, stage: 'cache', detail: `using the cached configuration's boot server ${o.cached} (${why})`, trace }
      : { server: null, stage: 'cache', detail: `Could not contact boot server using existing configuration (${why})`, trace };
  };
  const staticResult = (why: string): DiscoveryResult => {
    trace.push(`stage 3: static boot server ${o.staticServer} (${why})`);
    return { server: (o.staticServer as string).trim(), stage: 'static', detail: `static boot server (${why})`, trace };
  };

  if (o.mode === 'static') {
    // Guide, DHCP Menu: "2=Static The phone will use the boot server configured through the Server Menu."
    return usable(o.staticServer) ? staticResult('Boot Server: Static') : cacheResult('Boot Server: Static, but no static boot server is set');
  }
  if (!o.dhcp) {
    return usable(o.staticServer) ? staticResult('DHCP client disabled') : cacheResult('DHCP client disabled and no static boot server');
  }

  const client = await DhcpClient.open({ port: o.clientPort ?? 68, bindHost: o.bindHost });
  try {
    // ---- Stage 1: the DHCP exchange (RFC 2131 §3.1: DISCOVER, OFFER, REQUEST, ACK) ----
    let leased: string | undefined;
    if (!o.skipLease) {
      const xid = newXid();
      const offers = await client.exchange(request(o, mac, xid, MessageType.DISCOVER, []), [o.dhcp], {
        windowMs: o.timeoutMs,
        retries: 0,
        first: true,
        match: (r) => r.packet.xid === xid && r.type === MessageType.OFFER && r.packet.chaddr.subarray(0, 6).toString('hex') === mac,
      });
      const offer = offers[0];
      if (!offer) trace.push(`stage 1: no DHCPOFFER from ${o.dhcp.host}:${o.dhcp.port} within ${o.timeoutMs} ms`);
      else {
        const sid = offer.packet.options.get(Opt.SERVER_ID);
        const extra: Array<[number, Buffer]> = [[Opt.REQUESTED_IP, parseIPv4(offer.packet.yiaddr)!]];
        if (sid) extra.push([Opt.SERVER_ID, sid]);
        const acks = await client.exchange(request(o, mac, xid, MessageType.REQUEST, extra), [o.dhcp], {
          windowMs: o.timeoutMs,
          retries: 0,
          first: true,
          match: (r) => r.packet.xid === xid && (r.type === MessageType.ACK || r.type === MessageType.NAK),
        });
        const ack = acks[0];
        if (!ack) trace.push(`stage 1: DHCPOFFER of ${offer.packet.yiaddr} but no DHCPACK`);
        else if (ack.type === MessageType.NAK) trace.push(`stage 1: DHCPNAK from ${ack.from.address}`);
        else {
          leased = ack.packet.yiaddr;
          const pick = pickBootServer(ack.packet.options, o);
          if (pick) {
            trace.push(`stage 1: option ${pick.option} from ${ack.from.address}: ${pick.server}`);
            return { server: pick.server, stage: 'dhcp', option: pick.option, from: ack.from.address, leasedAddress: leased, detail: `DHCP option ${pick.option} from ${ack.from.address}`, trace };
          }
          trace.push(`stage 1: DHCPACK from ${ack.from.address} leases ${leased} but carries no valid boot server option for ${o.mode}`);
        }
      }
    }

    // Guide, DHCP Menu: a stored boot server other than 0.0.0.0 wins over an INFORM.
    if (usable(o.staticServer)) return staticResult('no boot server option in the DHCP reply; stored value is not 0.0.0.0');

    // ---- Stage 2: DHCPINFORM (RFC 2131 §3.4), only when the stored server is null or 0.0.0.0 ----
    const ciaddr = leased ?? o.address ?? '127.0.0.1';
    const xid = newXid();
    const targets = o.informTargets ?? [o.dhcp];
    const window = o.informWindowMs ?? o.timeoutMs;
    const answers = await client.exchange(request(o, mac, xid, MessageType.INFORM, [], ciaddr), targets, {
      windowMs: window,
      retries: o.informRetries ?? 1,
      first: false,
      match: (r) => r.packet.xid === xid && r.type === MessageType.ACK,
    });
    trace.push(`stage 2: DHCPINFORM from ${ciaddr} to ${targets.map((t) => `${t.host}:${t.port}`).join(', ')}: ${answers.length} answer(s)`);
    const chosen = chooseInformAnswer(answers, o);
    if (chosen) {
      trace.push(`stage 2: option ${chosen.pick.option} from ${chosen.reply.from.address}:${chosen.reply.from.port}: ${chosen.pick.server}`);
      return {
        server: chosen.pick.server,
        stage: 'inform',
        option: chosen.pick.option,
        from: `${chosen.reply.from.address}:${chosen.reply.from.port}`,
        ...(leased ? { leasedAddress: leased } : {}),
        detail: `DHCPINFORM answered with option ${chosen.pick.option} by ${chosen.reply.from.address}:${chosen.reply.from.port}`,
        trace,
      };
    }
    // Stage 3 would use the static server, but stage 2 only runs when there is none.
    return cacheResult(answers.length ? 'no INFORM answer carried a valid boot server option' : 'no alternate DHCP server answered the INFORM');
  } finally {
    await client.close();
  }
}
