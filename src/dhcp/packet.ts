// DHCP message codec: RFC 2131 §2 (BOOTP header), RFC 2132 (options), RFC 3396 (long options).
// decodeDhcp never throws: a malformed, truncated or hostile packet comes back as
// { ok: false, reason } so a responder can drop it with one log line.
//
// RFC 2131 §2, Figure 1 (offsets in bytes):
//   0  op | htype | hlen | hops
//   4  xid (4)
//   8  secs (2) | flags (2)             flags bit 15 = BROADCAST
//  12  ciaddr (4)   16 yiaddr (4)   20 siaddr (4)   24 giaddr (4)
//  28  chaddr (16)
//  44  sname (64)                      may hold options when option 52 says so
// 108  file (128)                      may hold options when option 52 says so
// 236  magic cookie 99.130.83.99       RFC 2131 §3, RFC 2132 §2
// 240  options: code len data…, 0 = pad (no length), 255 = end (no length)

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const MAGIC_COOKIE = 0x63825363;
export const HEADER_LEN = 240;
/** RFC 2131 §2: every client must accept a 576-byte IP datagram, i.e. 548 bytes of DHCP message. */
export const MIN_MAX_MESSAGE = 576 - 28;
/** RFC 1542 §3.3 / common practice: pad BOOTP messages to at least 300 bytes. */
export const BOOTP_MIN_LEN = 300;
/** Largest datagram we are willing to look at; anything bigger is hostile. */
export const MAX_PACKET_LEN = 65507;

/** RFC 2132 §9.6 DHCP message type (option 53). */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export function messageTypeName(t: number | undefined): string {
  for (const [k, v] of Object.entries(MessageType)) if (v === t) return k;
  return t === undefined ? 'BOOTP' : `type-${t}`;
}

/** Option codes this project uses by name. */
export const Opt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS: 6,
  DOMAIN_NAME: 15,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  RELAY_AGENT_INFO: 82,
  END: 255,
} as const;

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte chaddr field; the hardware address is its first `hlen` bytes. */
  chaddr: Buffer;
  /** sname as text when it is not used for options (NUL-terminated). */
  sname: string;
  /** file as text when it is not used for options (NUL-terminated). */
  file: string;
  /**
   * Options by code, in first-seen order. A code seen more than once is concatenated
   * (RFC 3396 §7: the parts form one long option), across options, file and sname in that order.
   */
  options: Map<number, Buffer>;
}

export type DecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; reason: string };

/** The client's hardware address as 12 lowercase hex digits, when it is an Ethernet MAC (htype 1, hlen 6). */
export function hardwareMac(p: Pick<DhcpPacket, 'htype' | 'hlen' | 'chaddr'>): string | undefined {
  if (p.htype !== 1 || p.hlen !== 6 || p.chaddr.length < 6) return undefined;
  return p.chaddr.subarray(0, 6).toString('hex');
}

export function messageType(p: DhcpPacket): number | undefined {
  const v = p.options.get(Opt.MESSAGE_TYPE);
  return v && v.length === 1 ? v[0] : undefined;
}

function ipAt(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

function cString(buf: Buffer): string {
  const nul = buf.indexOf(0);
  return buf.subarray(0, nul < 0 ? buf.length : nul).toString('latin1');
}

type Area = 'options' | 'file' | 'sname';

/**
 * Walks one option area. Pad (0) has no length byte; end (255) stops the area.
 * Returns a reason string on malformed input.
 */
function parseArea(buf: Buffer, area: Area, parts: Map<number, Buffer[]>, order: number[]): string | { sawEnd: boolean } {
  let i = 0;
  while (i < buf.length) {
    const code = buf[i];
    if (code === Opt.PAD) {
      i += 1;
      continue;
    }
    if (code === Opt.END) return { sawEnd: true };
    if (i + 1 >= buf.length) return `${area}: option ${code} has no length byte at offset ${i}`;
    const len = buf[i + 1];
    const start = i + 2;
    const end = start + len;
    if (end > buf.length) return `${area}: option ${code} length ${len} runs past the end (${buf.length - start} bytes left)`;
    // RFC 2131 §4.1: option 52 is only meaningful in the options field.
    if (code === Opt.OVERLOAD && area !== 'options') return `${area}: option 52 (overload) inside an overloaded field`;
    let list = parts.get(code);
    if (!list) {
      list = [];
      parts.set(code, list);
      order.push(code);
    }
    list.push(buf.subarray(start, end));
    i = end;
  }
  return { sawEnd: false };
}

export function decodeDhcp(buf: Buffer): DecodeResult {
  try {
    return decodeUnchecked(buf);
  } catch (err) {
    // Defence in depth: every read above is bounds-checked, but a bug must cost one packet, not the server.
    return { ok: false, reason: `decoder fault: ${(err as Error).message}` };
  }
}

function decodeUnchecked(buf: Buffer): DecodeResult {
  if (!Buffer.isBuffer(buf)) return { ok: false, reason: 'not a buffer' };
  if (buf.length > MAX_PACKET_LEN) return { ok: false, reason: `packet of ${buf.length} bytes is too large` };
  if (buf.length < HEADER_LEN) return { ok: false, reason: `truncated: ${buf.length} bytes, a DHCP message needs at least ${HEADER_LEN}` };
  const op = buf[0];
  if (op !== BOOTREQUEST && op !== BOOTREPLY) return { ok: false, reason: `op ${op} is neither BOOTREQUEST nor BOOTREPLY` };
  const hlen = buf[2];
  if (hlen > 16) return { ok: false, reason: `hlen ${hlen} exceeds the 16-byte chaddr field` };
  if (buf.readUInt32BE(236) !== MAGIC_COOKIE) return { ok: false, reason: 'no DHCP magic cookie (plain BOOTP or garbage)' };

  const parts = new Map<number, Buffer[]>();
  const order: number[] = [];
  const main = parseArea(buf.subarray(HEADER_LEN), 'options', parts, order);
  if (typeof main === 'string') return { ok: false, reason: main };

  // RFC 2131 §4.1: options first, then 'file', then 'sname' when option 52 says so.
  let overload = 0;
  const ov = parts.get(Opt.OVERLOAD);
  if (ov) {
    if (ov.length !== 1 || ov[0].length !== 1) return { ok: false, reason: 'option 52 (overload) must appear once with length 1' };
    overload = ov[0][0];
    if (overload < 1 || overload > 3) return { ok: false, reason: `option 52 (overload) value ${overload} is not 1, 2 or 3` };
  }
  const fileField = buf.subarray(108, 236);
  const snameField = buf.subarray(44, 108);
  if (overload & 1) {
    const r = parseArea(fileField, 'file', parts, order);
    if (typeof r === 'string') return { ok: false, reason: r };
  }
  if (overload & 2) {
    const r = parseArea(snameField, 'sname', parts, order);
    if (typeof r === 'string') return { ok: false, reason: r };
  }

  const options = new Map<number, Buffer>();
  for (const code of order) {
    const list = parts.get(code)!;
    options.set(code, list.length === 1 ? Buffer.from(list[0]) : Buffer.concat(list));
  }
  const mt = options.get(Opt.MESSAGE_TYPE);
  if (mt && mt.length !== 1) return { ok: false, reason: `option 53 (message type) has length ${mt.length}, expected 1` };

  return {
    ok: true,
    packet: {
      op,
      htype: buf[1],
      hlen,
      hops: buf[3],
      xid: buf.readUInt32BE(4),
      secs: buf.readUInt16BE(8),
      flags: buf.readUInt16BE(10),
      ciaddr: ipAt(buf, 12),
      yiaddr: ipAt(buf, 16),
      siaddr: ipAt(buf, 20),
      giaddr: ipAt(buf, 24),
      chaddr: Buffer.from(buf.subarray(28, 44)),
      sname: overload & 2 ? '' : cString(snameField),
      file: overload & 1 ? '' : cString(fileField),
      options,
    },
  };
}

export interface EncodeInput {
  op: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid: number;
  secs?: number;
  flags?: number;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  chaddr?: Buffer;
  sname?: string;
  file?: string;
  /** Written in this order (a Map keeps insertion order); 0 and 255 are added by the encoder. */
  options: Map<number, Buffer> | Array<[number, Buffer]>;
}

/** Parses a dotted-quad IPv4 address, or undefined. */
export function parseIPv4(s: string): Buffer | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return undefined;
  return Buffer.from(b);
}

function writeIp(out: Buffer, off: number, ip: string | undefined): void {
  const b = parseIPv4(ip ?? '0.0.0.0');
  if (!b) throw new Error(`not an IPv4 address: ${ip}`);
  b.copy(out, off);
}

function writeField(out: Buffer, off: number, size: number, s: string | undefined): void {
  if (!s) return;
  const b = Buffer.from(s, 'latin1');
  if (b.length >= size) throw new Error(`field of ${b.length} bytes does not fit in ${size - 1}`);
  b.copy(out, off);
}

/**
 * Encodes a DHCP message. Options longer than 255 bytes are split into consecutive
 * instances of the same code (RFC 3396 §6). The result is padded to 300 bytes.
 * Never overloads sname/file: callers keep replies small. Throws on programming errors only.
 */
export function encodeDhcp(p: EncodeInput): Buffer {
  const opts: Buffer[] = [];
  const entries = p.options instanceof Map ? [...p.options.entries()] : p.options;
  for (const [code, data] of entries) {
    if (!Number.isInteger(code) || code <= 0 || code >= 255) throw new Error(`option code ${code} cannot be encoded`);
    if (data.length === 0) {
      opts.push(Buffer.from([code, 0]));
      continue;
    }
    for (let i = 0; i < data.length; i += 255) {
      const chunk = data.subarray(i, i + 255);
      opts.push(Buffer.from([code, chunk.length]), chunk);
    }
  }
  opts.push(Buffer.from([Opt.END]));
  const body = Buffer.concat(opts);
  const len = Math.max(BOOTP_MIN_LEN, HEADER_LEN + body.length);
  const out = Buffer.alloc(len);
  out[0] = p.op;
  out[1] = p.htype ?? 1;
  out[2] = p.hlen ?? 6;
  out[3] = p.hops ?? 0;
  out.writeUInt32BE(p.xid >>> 0, 4);
  out.writeUInt16BE(p.secs ?? 0, 8);
  out.writeUInt16BE(p.flags ?? 0, 10);
  writeIp(out, 12, p.ciaddr);
  writeIp(out, 16, p.yiaddr);
  writeIp(out, 20, p.siaddr);
  writeIp(out, 24, p.giaddr);
  if (p.chaddr) {
    if (p.chaddr.length > 16) throw new Error('chaddr longer than 16 bytes');
    p.chaddr.copy(out, 28);
  }
  writeField(out, 44, 64, p.sname);
  writeField(out, 108, 128, p.file);
  out.writeUInt32BE(MAGIC_COOKIE, 236);
  body.copy(out, HEADER_LEN);
  return out;
}

/** A chaddr field for an Ethernet MAC given as 12 hex digits. */
export function chaddrFromMac(mac: string): Buffer {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '');
  if (hex.length !== 12) throw new Error(`not a MAC address: ${mac}`);
  const b = Buffer.alloc(16);
  Buffer.from(hex, 'hex').copy(b);
  return b;
}

// ---- option value helpers ----

/** Option value as text: trailing NULs dropped (many servers NUL-terminate strings). */
export function optionText(v: Buffer): string {
  let end = v.length;
  while (end > 0 && v[end - 1] === 0) end--;
  return v.subarray(0, end).toString('latin1');
}

/** First IPv4 address of an address-list option (RFC 2132 §3: lists are multiples of 4). */
export function optionIp(v: Buffer): string | undefined {
  if (v.length < 4 || v.length % 4 !== 0) return undefined;
  return ipAt(v, 0);
}
