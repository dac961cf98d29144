import { describe, expect, test } from 'vitest';
import {
  BOOTREPLY,
  BOOTREQUEST,
  HEADER_LEN,
  MessageType,
  Opt,
  chaddrFromMac,
  decodeDhcp,
  encodeDhcp,
  hardwareMac,
  messageType,
  optionIp,
  optionText,
} from './packet.ts';

function inform(extra: Array<[number, Buffer]> = []): Buffer {
  return encodeDhcp({
    op: BOOTREQUEST,
    xid: 0x12345678,
    ciaddr: '192.0.2.20',
    chaddr: chaddrFromMac('0004f2000001'),
    options: [[Opt.MESSAGE_TYPE, Buffer.from([MessageType.INFORM])], ...extra],
  });
}

function ok(buf: Buffer) {
  const d = decodeDhcp(buf);
  if (!d.ok) throw new Error(d.reason);
  return d.packet;
}

function reason(buf: Buffer): string {
  const d = decodeDhcp(buf);
  if (d.ok) throw new Error('decoded a packet that should be refused');
  return d.reason;
}

describe('RFC 2131 §2 header and RFC 2132 options', () => {
  test('RFC 2131 §2: round trip of the fixed header, chaddr and options', () => {
    const buf = inform([[Opt.PARAM_REQUEST_LIST, Buffer.from([1, 66, 160])]]);
    expect(buf.length).toBeGreaterThanOrEqual(300);
    const p = ok(buf);
    expect(p.op).toBe(BOOTREQUEST);
    expect(p.xid).toBe(0x12345678);
    expect(p.ciaddr).toBe('192.0.2.20');
    expect(p.yiaddr).toBe('0.0.0.0');
    expect(hardwareMac(p)).toBe('0004f2000001');
    expect(messageType(p)).toBe(MessageType.INFORM);
    expect([...p.options.get(Opt.PARAM_REQUEST_LIST)!]).toEqual([1, 66, 160]);
  });

  test('RFC 2132 §3.1/§3.2: pad options are skipped, end stops parsing', () => {
    const buf = inform();
    // options: 53 1 8 | 255 ... ; replace with pad pad 53 1 8 end 66 junk after end
    const opts = Buffer.from([0, 0, 53, 1, 8, 255, 66, 3, 0x61, 0x62, 0x63]);
    opts.copy(buf, HEADER_LEN);
    const p = ok(buf);
    expect(messageType(p)).toBe(MessageType.INFORM);
    expect(p.options.has(66)).toBe(false);
  });

  test('RFC 3396: a long option is split on encode and concatenated on decode', () => {
    const long = Buffer.alloc(600, 0x41);
    const p = ok(inform([[66, long]]));
    expect(p.options.get(66)!.equals(long)).toBe(true);
  });

  test('RFC 2131 §4.1, option 52: options in file then sname are read after the options field', () => {
    const buf = inform([[Opt.OVERLOAD, Buffer.from([3])]]);
    // file (offset 108): option 66 "abc", end; sname (offset 44): option 66 "def" (concatenated), option 150, end.
    Buffer.from([66, 3, 0x61, 0x62, 0x63, 255]).copy(buf, 108);
    Buffer.from([66, 3, 0x64, 0x65, 0x66, 150, 4, 192, 0, 2, 1, 255]).copy(buf, 44);
    const p = ok(buf);
    expect(optionText(p.options.get(66)!)).toBe('abcdef');
    expect(optionIp(p.options.get(150)!)).toBe('192.0.2.1');
    expect(p.sname).toBe('');
    expect(p.file).toBe('');
  });

  test('without option 52, sname and file are text fields', () => {
    const p = ok(encodeDhcp({ op: BOOTREPLY, xid: 1, sname: 'boot', file: 'x.cfg', options: [] }));
    expect(p.sname).toBe('boot');
    expect(p.file).toBe('x.cfg');
  });
});

describe('refusals (never a throw)', () => {
  test('truncated below the 240-byte header', () => {
    const buf = inform();
    for (const n of [0, 1, 27, 44, 235, 239]) expect(reason(buf.subarray(0, n))).toMatch(/truncated/);
  });

  test('no magic cookie', () => {
    const buf = inform();
    buf.writeUInt32BE(0, 236);
    expect(reason(buf)).toMatch(/cookie/);
  });

  test('an option length running past the end', () => {
    const buf = inform().subarray(0, HEADER_LEN + 3);
    Buffer.from([66, 200, 0x41]).copy(buf, HEADER_LEN);
    expect(reason(buf)).toMatch(/runs past/);
  });

  test('an option code with no length byte at the very end', () => {
    const buf = Buffer.concat([inform().subarray(0, HEADER_LEN), Buffer.from([53, 1, 8, 66])]);
    expect(reason(buf)).toMatch(/no length/);
  });

  test('RFC 2131 §4.1: option 52 with a bad value, twice, or inside an overloaded field', () => {
    expect(reason(inform([[Opt.OVERLOAD, Buffer.from([4])]]))).toMatch(/overload/);
    expect(reason(inform([[Opt.OVERLOAD, Buffer.from([1, 1])]]))).toMatch(/overload/);
    const nested = inform([[Opt.OVERLOAD, Buffer.from([1])]]);
    Buffer.from([52, 1, 2, 255]).copy(nested, 108);
    expect(reason(nested)).toMatch(/inside an overloaded field/);
  });

  test('an overloaded file field whose option runs past 128 bytes', () => {
    const buf = inform([[Opt.OVERLOAD, Buffer.from([1])]]);
    buf[108 + 126] = 66;
    buf[108 + 127] = 10;
    expect(reason(buf)).toMatch(/file: option 66/);
  });

  test('hlen over 16, unknown op, message type of length 2', () => {
    const a = inform();
    a[2] = 17;
    expect(reason(a)).toMatch(/hlen/);
    const b = inform();
    b[0] = 3;
    expect(reason(b)).toMatch(/op 3/);
    expect(reason(inform([[Opt.MESSAGE_TYPE, Buffer.from([8, 8])]]))).toMatch(/option 53/);
  });

  test('oversized datagram', () => {
    expect(reason(Buffer.alloc(70_000))).toMatch(/too large/);
  });
});

describe('option values', () => {
  test('optionText drops trailing NULs (servers that NUL-terminate option 66)', () => {
    expect(optionText(Buffer.from('http://x/\0'))).toBe('http://x/');
  });
  test('optionIp needs a multiple of 4 bytes', () => {
    expect(optionIp(Buffer.from([192, 0, 2, 1]))).toBe('192.0.2.1');
    expect(optionIp(Buffer.from([192, 0, 2]))).toBeUndefined();
    expect(optionIp(Buffer.from([192, 0, 2, 1, 192, 0, 2, 2]))).toBe('192.0.2.1');
  });
});
