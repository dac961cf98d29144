import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRequest,
  TftpDecodeError,
} from './packet.ts';

describe('TFTP packet codec', () => {
  test('RFC 1350 §5: RRQ carries filename and mode; RFC 2347 §2: options follow as name/value pairs', () => {
    const p = decodePacket(encodeRequest('RRQ', '0004f2000001.cfg', 'OCTET', { BlkSize: '1468', tsize: '0' }));
    expect(p).toEqual({
      op: 'RRQ',
      filename: '0004f2000001.cfg',
      mode: 'octet',
      options: new Map([
        ['blksize', '1468'],
        ['tsize', '0'],
      ]),
    });
  });

  test('RFC 1350 §5: WRQ, DATA, ACK and ERROR round-trip', () => {
    expect(decodePacket(encodeRequest('WRQ', 'a-app.log')).op).toBe('WRQ');
    const d = decodePacket(encodeData(65535, Buffer.from('abc')));
    expect(d).toEqual({ op: 'DATA', block: 65535, data: Buffer.from('abc') });
    expect(decodePacket(encodeData(65536, Buffer.alloc(0)))).toEqual({ op: 'DATA', block: 0, data: Buffer.alloc(0) });
    expect(decodePacket(encodeAck(7))).toEqual({ op: 'ACK', block: 7 });
    expect(decodePacket(encodeError(1, 'no such file'))).toEqual({ op: 'ERROR', code: 1, message: 'no such file' });
  });

  test('RFC 2347 §2: OACK round-trip keeps option order', () => {
    const p = decodePacket(encodeOack({ blksize: '1468', windowsize: '16' }));
    expect(p.op).toBe('OACK');
    expect([...(p as { options: Map<string, string> }).options.keys()]).toEqual(['blksize', 'windowsize']);
  });

  test('RFC 1350 §5: malformed packets give a typed decode error with a stable reason', () => {
    const cases: [Buffer, string][] = [
      [Buffer.from([0]), 'short'],
      [Buffer.from([0, 9, 1, 2]), 'opcode'],
      [Buffer.from([0, 3, 1]), 'short'],
      [Buffer.from([0, 4]), 'short'],
      [Buffer.from('\x00\x01file\x00octet', 'latin1'), 'unterminated'],
      [Buffer.from('\x00\x01file\x00', 'latin1'), 'unterminated'],
      [Buffer.from('\x00\x01\x00octet\x00', 'latin1'), 'empty-filename'],
      [Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), 'odd-options'],
    ];
    for (const [buf, reason] of cases) {
      let caught: unknown;
      try {
        decodePacket(buf);
      } catch (e) {
        caught = e;
      }
      expect(caught, buf.toString('hex')).toBeInstanceOf(TftpDecodeError);
      expect((caught as TftpDecodeError).reason).toBe(reason);
    }
  });

  test('RFC 1350 §5: an ERROR message is cut to fit and never contains a NUL', () => {
    const b = encodeError(0, 'x\0y'.repeat(200));
    expect(b.length).toBeLessThanOrEqual(4 + 200 + 1);
    expect(b.indexOf(0, 4)).toBe(b.length - 1);
  });

  test('fuzz (seed 42): any bytes decode to a packet or a TftpDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodePacket(Buffer.from(bytes));
        } catch (e) {
          if (!(e instanceof TftpDecodeError)) throw e;
        }
      }),
      { seed: 42, numRuns: 5000 },
    );
  });
});
