// TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347 (OACK and request options).
// Pure bytes in, bytes out; it knows no files, sockets or sessions.
//
// Wire formats (RFC 1350 §5, RFC 2347 §2), every integer big-endian:
//
//   RRQ/WRQ   2 bytes  string   1 byte  string  1 byte  string 1 byte  string 1 byte
//            +-------+---------+------+--------+------+-------+------+-------+------+ ...
//            | 01/02 | filename|   0  |  mode  |   0  | opt1  |   0  | value1|   0  | ...
//            +-------+---------+------+--------+------+-------+------+-------+------+
//   DATA      2 bytes  2 bytes   0..blksize bytes     (RFC 1350: 512; RFC 2348: negotiated)
//            +-------+--------+-----------+
//            |  03   | block# |   data    |
//            +-------+--------+-----------+
//   ACK       2 bytes  2 bytes
//            +-------+--------+
//            |  04   | block# |
//            +-------+--------+
//   ERROR     2 bytes  2 bytes    string   1 byte
//            +-------+----------+--------+------+
//            |  05   | ErrorCode| ErrMsg |   0  |
//            +-------+----------+--------+------+
//   OACK      2 bytes  string 1 byte  string 1 byte ...        (RFC 2347)
//            +-------+-------+------+-------+------+ ...
//            |  06   | opt1  |   0  | value1|   0  | ...
//            +-------+-------+------+-------+------+
//
// Strings are netascii in the RFC; we decode them as latin1 so every byte round-trips and a
// hostile filename reaches the core exactly as received (the core refuses hostile paths).

export const OP_RRQ = 1;
export const OP_WRQ = 2;
export const OP_DATA = 3;
export const OP_ACK = 4;
export const OP_ERROR = 5;
export const OP_OACK = 6;

/** RFC 1350 §5 error codes, plus RFC 2347's 8. */
export const TFTP_ERR = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

export interface RequestPacket {
  op: 'RRQ' | 'WRQ';
  filename: string;
  /** Lower-cased: RFC 1350 §5 says mode names are case-insensitive. */
  mode: string;
  /** Option names lower-cased (RFC 2347 §2: case-insensitive), values as sent, in request order. */
  options: Map<string, string>;
}
export interface DataPacket {
  op: 'DATA';
  block: number;
  data: Buffer;
}
export interface AckPacket {
  op: 'ACK';
  block: number;
}
export interface ErrorPacket {
  op: 'ERROR';
  code: number;
  message: string;
}
export interface OackPacket {
  op: 'OACK';
  options: Map<string, string>;
}
export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

export type DecodeFailure = 'short' | 'opcode' | 'unterminated' | 'empty-filename' | 'odd-options';

/** A packet that is not TFTP. `reason` is stable; callers match on it, not on the message. */
export class TftpDecodeError extends Error {
  readonly reason: DecodeFailure;
  constructor(reason: DecodeFailure, message: string) {
    super(message);
    this.name = 'TftpDecodeError';
    this.reason = reason;
  }
}

/** Splits NUL-terminated strings from `start`. Trailing NUL padding is tolerated; bytes after the last NUL are not. */
function splitStrings(buf: Buffer, start: number): string[] {
  const out: string[] = [];
  let at = start;
  while (at < buf.length) {
    const nul = buf.indexOf(0, at);
    if (nul < 0) throw new TftpDecodeError('unterminated', `string at byte ${at} has no terminating NUL`);
    out.push(buf.toString('latin1', at, nul));
    at = nul + 1;
  }
  // Some clients pad requests with extra NULs: drop empty strings at the end.
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function optionPairs(strings: string[], from: number): Map<string, string> {
  if ((strings.length - from) % 2 !== 0) {
    throw new TftpDecodeError('odd-options', `option "${strings[strings.length - 1]}" has no value (RFC 2347 §2)`);
  }
  const options = new Map<string, string>();
  for (let i = from; i < strings.length; i += 2) {
    const name = strings[i].toLowerCase();
    // A repeated option keeps its first value, so a later copy cannot override a clamp.
    if (!options.has(name)) options.set(name, strings[i + 1]);
  }
  return options;
}

/** Decodes one datagram. Throws TftpDecodeError for anything malformed; never anything else. */
export function decodePacket(buf: Buffer): Packet {
  if (buf.length < 2) throw new TftpDecodeError('short', `datagram of ${buf.length} bytes has no opcode`);
  const opcode = buf.readUInt16BE(0);
  switch (opcode) {
    case OP_RRQ:
    case OP_WRQ: {
      const strings = splitStrings(buf, 2);
      if (strings.length < 2) throw new TftpDecodeError('unterminated', 'request needs a filename and a mode (RFC 1350 §5)');
      if (strings[0] === '') throw new TftpDecodeError('empty-filename', 'empty filename');
      return {
        op: opcode === OP_RRQ ? 'RRQ' : 'WRQ',
        filename: strings[0],
        mode: strings[1].toLowerCase(),
        options: optionPairs(strings, 2),
      };
    }
    case OP_DATA:
      if (buf.length < 4) throw new TftpDecodeError('short', 'DATA shorter than 4 bytes');
      return { op: 'DATA', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OP_ACK:
      if (buf.length < 4) throw new TftpDecodeError('short', 'ACK shorter than 4 bytes');
      return { op: 'ACK', block: buf.readUInt16BE(2) };
    case OP_ERROR: {
      if (buf.length < 4) throw new TftpDecodeError('short', 'ERROR shorter than 4 bytes');
      // Lenient on a missing final NUL: the message is only ever logged.
      const nul = buf.indexOf(0, 4);
      return { op: 'ERROR', code: buf.readUInt16BE(2), message: buf.toString('latin1', 4, nul < 0 ? buf.length : nul) };
    }
    case OP_OACK:
      return { op: 'OACK', options: optionPairs(splitStrings(buf, 2), 0) };
    default:
      throw new TftpDecodeError('opcode', `unknown opcode ${opcode}`);
  }
}

/** Bytes before a DATA payload: the opcode and the block number. */
export const DATA_HEADROOM = 4;

/** Writes the DATA header for `block` (its low 16 bits) into the first DATA_HEADROOM bytes of `datagram`. */
export function writeDataHeader(datagram: Buffer, block: number): void {
  datagram[0] = 0;
  datagram[1] = OP_DATA;
  datagram[2] = (block >>> 8) & 0xff;
  datagram[3] = block & 0xff;
}

/** The 4-byte DATA header on its own, for a payload sent as a second buffer. */
export function dataHeader(block: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt16BE(OP_DATA, 0);
  h.writeUInt16BE(block & 0xffff, 2);
  return h;
}

export function encodeData(block: number, data: Buffer): Buffer {
  return Buffer.concat([dataHeader(block), data]);
}

export function encodeAck(block: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16BE(OP_ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/** Messages are cut to 200 bytes: an ERROR must fit any blksize the peer may assume (512). */
export function encodeError(code: number, message: string): Buffer {
  const text = Buffer.from(message.replace(/\0/g, ' '), 'latin1').subarray(0, 200);
  const b = Buffer.alloc(4 + text.length + 1);
  b.writeUInt16BE(OP_ERROR, 0);
  b.writeUInt16BE(code & 0xffff, 2);
  text.copy(b, 4);
  return b;
}

function encodeStrings(opcode: number, strings: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, opcode])];
  for (const s of strings) parts.push(Buffer.from(s, 'latin1'), Buffer.from([0]));
  return Buffer.concat(parts);
}

export function encodeOack(options: Map<string, string> | Record<string, string>): Buffer {
  const entries = options instanceof Map ? [...options] : Object.entries(options);
  return encodeStrings(OP_OACK, entries.flat());
}

/** Used by tests and the benchmark's fake clients. */
export function encodeRequest(
  op: 'RRQ' | 'WRQ',
  filename: string,
  mode = 'octet',
  options: Record<string, string> = {},
): Buffer {
  return encodeStrings(op === 'RRQ' ? OP_RRQ : OP_WRQ, [filename, mode, ...Object.entries(options).flat()]);
}
