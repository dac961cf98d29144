// The DHCPINFORM responder: a "secondary DHCP server that responds to DHCP INFORM queries with a
// requested boot server value" (guide, DHCP or Manual TCP/IP Setup; RFC 3361, RFC 3925), for sites
// whose administrator does not control the main DHCP server. White paper, Discovering the
// Provisioning Server, Stage 2: "A server other than the main DHCP server may respond with the
// provisioning server address."
//
// It never leases addresses: DISCOVER/REQUEST/etc. are ignored (RFC 2131 §4.3.5: the reply to an
// INFORM is a DHCPACK without yiaddr and without lease-time parameters).
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { POLYCOM_ENTERPRISE, decodeOption60, isPolycomMac, type VendorClass } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import type { Sighting } from '../domain.ts';
import type { BootOption } from './boot-option.ts';
import { bootServerValue } from './boot-option.ts';
import {
  BOOTREPLY,
  BOOTREQUEST,
  MIN_MAX_MESSAGE,
  MessageType,
  Opt,
  decodeDhcp,
  encodeDhcp,
  hardwareMac,
  messageType,
  messageTypeName,
  parseIPv4,
  type DhcpPacket,
} from './packet.ts';
import { SourceRateLimiter } from './rate-limit.ts';

/** RFC 2131 §4.1: relay agents listen on the server port. */
export const BOOTP_SERVER_PORT = 67;
export const BOOTP_CLIENT_PORT = 68;

export interface InformConfig {
  bootServer: string;
  options: BootOption[];
  /** Answer only phones recognised by option 60 or MAC OUI. */
  onlyPolycom: boolean;
  /** Option 54 (server identifier, RFC 2132 §9.7): an IPv4 address of this host. */
  serverId: string;
  /** Port replies go to at ciaddr (68 on a real network; tests use a high port). */
  replyPort: number;
  /** Port replies go to at a relay agent's giaddr. */
  relayPort: number;
}

export interface PhoneSeen {
  mac?: Mac;
  vendorClass?: VendorClass;
  /** How the phone was recognised as a Polycom. */
  by: Array<'option60' | 'oui'>;
}

export type InformDecision =
  | { kind: 'reply'; reply: Buffer; to: { address: string; port: number }; phone: PhoneSeen; packet: DhcpPacket }
  | { kind: 'ignore'; reason: string; phone?: PhoneSeen; packet?: DhcpPacket }
  | { kind: 'drop'; reason: string };

/** Recognises a Polycom phone by option 60 (enterprise 13885, facts §5.2) and by MAC OUI. */
export function identifyPhone(p: DhcpPacket): PhoneSeen {
  const by: PhoneSeen['by'] = [];
  const mac = hardwareMac(p) as Mac | undefined;
  let vendorClass: VendorClass | undefined;
  const v60 = p.options.get(Opt.VENDOR_CLASS);
  if (v60) {
    let vc: VendorClass | undefined;
    try {
      vc = decodeOption60(v60);
    } catch {
      vc = undefined; // the catalogue's decoder is not ours to trust with hostile bytes
    }
    if (vc && vc.enterprise === POLYCOM_ENTERPRISE) {
      vendorClass = vc;
      by.push('option60');
    } else if (/polycom/i.test(v60.toString('latin1'))) {
      // UCS device.dhcp.option60Type may send a text form (facts §5.2: format unknown).
      by.push('option60');
    }
  }
  if (mac && isPolycomMac(mac)) by.push('oui');
  return { mac, vendorClass, by };
}

const ZERO = '0.0.0.0';

/** Decides what to do with one datagram. Pure: no sockets, no clock. */
export function answerInform(msg: Buffer, from: { address: string; port: number }, cfg: InformConfig): InformDecision {
  const d = decodeDhcp(msg);
  if (!d.ok) return { kind: 'drop', reason: d.reason };
  const p = d.packet;
  if (p.op !== BOOTREQUEST) return { kind: 'ignore', reason: 'BOOTREPLY sent to the server port', packet: p };
  const type = messageType(p);
  const phone = identifyPhone(p);
  if (type !== MessageType.INFORM) {
    return { kind: 'ignore', reason: `${messageTypeName(type)} ignored: this responder answers DHCPINFORM only, it is not the address server`, phone, packet: p };
  }
  if (cfg.onlyPolycom && phone.by.length === 0) return { kind: 'ignore', reason: 'not a Polycom phone (option 60, MAC OUI) and --only-polycom is set', phone, packet: p };

  // RFC 2131 §4.1 / §4.3.5: via a relay to giaddr on the server port, else unicast to ciaddr.
  // A client MUST fill ciaddr in an INFORM; if one does not, answer its source address.
  let to: { address: string; port: number };
  if (p.giaddr !== ZERO) to = { address: p.giaddr, port: cfg.relayPort };
  else if (p.ciaddr !== ZERO) to = { address: p.ciaddr, port: cfg.replyPort };
  else if (from.address !== ZERO && parseIPv4(from.address)) to = { address: from.address, port: cfg.replyPort };
  else return { kind: 'drop', reason: 'DHCPINFORM without ciaddr from an unknown address' };

  return { kind: 'reply', reply: buildAck(p, cfg), to, phone, packet: p };
}

/** RFC 2131 §4.3.5 and Table 3: DHCPACK to an INFORM: no yiaddr, no lease time, option 54 present. */
export function buildAck(p: DhcpPacket, cfg: InformConfig): Buffer {
  const offered = new Map<number, Buffer>();
  for (const o of cfg.options) offered.set(o.code, bootServerValue(cfg.bootServer, o.type).bytes);

  // RFC 2132 §9.8: options follow the client's parameter request list order where it names
  // them. Our boot-server options go out even when unrequested: a phone set to Custom need not
  // list its custom option, and the guide has it look for the option in any response.
  const prl = p.options.get(Opt.PARAM_REQUEST_LIST);
  const requested: Array<[number, Buffer]> = [];
  const unrequested: Array<[number, Buffer]> = [];
  for (const code of prl ?? []) {
    const v = offered.get(code);
    if (v && !requested.some(([c]) => c === code)) requested.push([code, v]);
  }
  for (const [code, v] of offered) if (!requested.some(([c]) => c === code)) unrequested.push([code, v]);

  // RFC 2131 §2 / RFC 2132 §9.10: a reply must fit 576-byte datagrams unless the client's option
  // 57 allows more. Unrequested options are the first to go; several 255-byte URLs could overflow.
  const mms = p.options.get(Opt.MAX_MESSAGE_SIZE);
  const limit = Math.max(MIN_MAX_MESSAGE, mms && mms.length === 2 ? mms.readUInt16BE(0) - 28 : 0);
  const encode = (extra: Array<[number, Buffer]>) => {
    const options: Array<[number, Buffer]> = [
      [Opt.MESSAGE_TYPE, Buffer.from([MessageType.ACK])],
      [Opt.SERVER_ID, parseIPv4(cfg.serverId)!],
      ...extra,
    ];
    // RFC 3046 §2.2: a server echoes the relay agent information option in its reply.
    const rai = p.options.get(Opt.RELAY_AGENT_INFO);
    if (rai && p.giaddr !== ZERO) options.push([Opt.RELAY_AGENT_INFO, rai]);
    return encodeDhcp({
      op: BOOTREPLY,
      htype: p.htype,
      hlen: p.hlen,
      hops: 0,
      xid: p.xid,
      secs: 0,
      flags: p.flags,
      ciaddr: p.ciaddr,
      yiaddr: ZERO,
      siaddr: ZERO,
      giaddr: p.giaddr,
      chaddr: p.chaddr,
      options,
    });
  };
  let extra = [...requested, ...unrequested];
  let out = encode(extra);
  while (out.length > limit && extra.length > 1) {
    extra = extra.slice(0, -1);
    out = encode(extra);
  }
  return out;
}

/** What the responder records about a phone it decoded (source 'dhcp'). */
export function sightingFor(phone: PhoneSeen, p: DhcpPacket, from: { address: string }, at: Date): Sighting | undefined {
  if (!phone.mac || phone.by.length === 0) return undefined;
  const requested = p.options.get(Opt.REQUESTED_IP);
  const address = p.ciaddr !== ZERO ? p.ciaddr : requested && requested.length === 4 ? requested.join('.') : from.address;
  const vc = phone.vendorClass;
  const s: Sighting = { mac: phone.mac, at, source: 'dhcp', address };
  if (vc?.model) s.model = vc.model;
  if (vc?.partNumber) s.partNumber = vc.partNumber;
  if (vc?.stage) s.stage = vc.stage;
  // Facts §5.2: "For the BootROM, sub-option 4 and sub-option 5 will contain the same string",
  // so sub-option 4 is an application version only when the phone runs the application.
  if (vc?.appVersion && vc.stage !== 'bootrom') s.appVersion = vc.appVersion;
  if (vc?.bootromVersion) s.bootromVersion = vc.bootromVersion;
  return s;
}

/** First non-internal IPv4 address of this host, for option 54 when listening on 0.0.0.0. */
export function defaultServerId(listenHost: string): string | undefined {
  if (listenHost !== ZERO && parseIPv4(listenHost)) return listenHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export interface InformResponderOptions extends InformConfig {
  host: string;
  port: number;
  log: Logger;
  /** Sightings of decoded phones go here (store.phones.recordSighting), off the reply path. */
  recordSighting?: (s: Sighting) => Promise<void>;
  rateLimitPerSec?: number;
  rateLimitBurst?: number;
}

export interface InformResponder {
  address(): { address: string; port: number };
  close(): Promise<void>;
  readonly stats: { received: number; answered: number; ignored: number; dropped: number; limited: number };
  /** Resolves when every pending sighting write has settled (tests, shutdown). */
  flush(): Promise<void>;
}

export async function startInformResponder(o: InformResponderOptions): Promise<InformResponder> {
  // Refuse a boot server the options cannot carry now, not once per packet.
  for (const opt of o.options) bootServerValue(o.bootServer, opt.type);
  if (!parseIPv4(o.serverId)) throw new RangeError(`server identifier ${o.serverId} is not an IPv4 address`);
  const log = o.log.child({ listener: 'dhcp-inform' });
  const limiter = new SourceRateLimiter(o.rateLimitPerSec ?? 20, o.rateLimitBurst ?? 40);
  const stats = { received: 0, answered: 0, ignored: 0, dropped: 0, limited: 0 };
  const pending = new Set<Promise<void>>();
  // No reuseAddr: a second responder (or a DHCP server) on the port must fail loudly, not share it.
  const sock = dgram.createSocket({ type: 'udp4' });
  sock.on('error', (err) => log.warn({ err: err.message }, 'dhcp socket error'));

  sock.on('message', (msg, rinfo) => {
    stats.received++;
    try {
      const rate = limiter.take(rinfo.address);
      if (!rate.allowed) {
        stats.limited++;
        if (rate.firstRefusal) log.warn({ code: 'PP_RATE_LIMITED', remote: rinfo.address }, `dhcp refused PP_RATE_LIMITED ${rinfo.address}: over ${o.rateLimitPerSec ?? 20} packets/s; dropping until it slows down`);
        return;
      }
      const d = answerInform(msg, rinfo, o);
      if (d.kind === 'drop') {
        stats.dropped++;
        log.warn({ code: 'PP_DHCP_MALFORMED', remote: rinfo.address, bytes: msg.length }, `dhcp refused PP_DHCP_MALFORMED ${rinfo.address}: ${d.reason}`);
        return;
      }
      if (d.phone && d.packet) record(d.phone, d.packet, rinfo);
      if (d.kind === 'ignore') {
        stats.ignored++;
        if (log.isLevelEnabled('debug')) log.debug({ remote: rinfo.address, mac: d.phone?.mac }, `dhcp ignored ${rinfo.address}: ${d.reason}`);
        return;
      }
      sock.send(d.reply, d.to.port, d.to.address, (err) => {
        if (err) log.warn({ err: err.message, to: d.to }, 'dhcp reply not sent');
      });
      stats.answered++;
      log.info(
        { remote: rinfo.address, mac: d.phone.mac, model: d.phone.vendorClass?.model, by: d.phone.by, to: `${d.to.address}:${d.to.port}` },
        `dhcp ack ${d.to.address} boot server option ${o.options.map((x) => x.code).join('+')}`,
      );
    } catch (err) {
      // Nothing above should throw; if it does, one packet is lost, never the listener.
      stats.dropped++;
      log.warn({ code: 'PP_INTERNAL', remote: rinfo.address, err: (err as Error).message }, `dhcp refused PP_INTERNAL ${rinfo.address}`);
    }
  });

  function record(phone: PhoneSeen, p: DhcpPacket, rinfo: { address: string }): void {
    if (!o.recordSighting) return;
    const s = sightingFor(phone, p, rinfo, new Date());
    if (!s) return;
    const w = o.recordSighting(s).catch((err: unknown) => log.warn({ err: (err as Error).message, mac: s.mac }, 'dhcp sighting not recorded'));
    pending.add(w);
    void w.finally(() => pending.delete(w));
  }

  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port, o.host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  const a = sock.address();
  log.info({ address: a.address, port: a.port, serverId: o.serverId, options: o.options }, `dhcp inform responder listening on ${a.address}:${a.port}`);

  return {
    address: () => ({ address: a.address, port: a.port }),
    stats,
    flush: async () => {
      await Promise.allSettled([...pending]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        sock.close(() => resolve());
      }).then(() => Promise.allSettled([...pending]).then(() => undefined)),
  };
}
