import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ControlLineReader } from './line-reader.ts';

function collect(max = 64) {
  const lines: string[] = [];
  let overlong = 0;
  const r = new ControlLineReader(max, { line: (l) => lines.push(l), overlong: () => overlong++ });
  return { r, lines, get overlong() { return overlong; } };
}

describe('ControlLineReader', () => {
  test('RFC 959 §4.1.3: commands end with CRLF; bare LF accepted; split across chunks', () => {
    const c = collect();
    c.r.push(Buffer.from('USER Plcm'));
    c.r.push(Buffer.from('SpIp\r\nPASS x\nNO'));
    c.r.push(Buffer.from('OP\r\n'));
    expect(c.lines).toEqual(['USER PlcmSpIp', 'PASS x', 'NOOP']);
  });

  test('RFC 959 §4.1.3 ABORT: Telnet IP and Synch before ABOR are stripped', () => {
    const c = collect();
    c.r.push(Buffer.from([0xff, 0xf4, 0xff, 0xf2, ...Buffer.from('ABOR\r\n')]));
    c.r.push(Buffer.from([0xff, 0xfb, 0x01, 0x41, 0xff, 0xff, 0x0d, 0x0a]));
    expect(c.lines[0]).toBe('ABOR');
    expect(Buffer.from(c.lines[1]!, 'utf8').includes(0x41)).toBe(true);
  });

  test('issue 5, garbage: an over-long line is dropped whole and reported once; the next line is intact', () => {
    const c = collect(16);
    c.r.push(Buffer.alloc(10, 0x41));
    c.r.push(Buffer.alloc(100, 0x42));
    c.r.push(Buffer.from('CCC\r\nNOOP\r\n'));
    expect(c.overlong).toBe(1);
    expect(c.lines).toEqual(['NOOP']);
  });

  test('any chunking of the same bytes yields the same lines (seed 42)', () => {
    const text = 'USER a\r\nPASS b\r\nRETR x y\nQUIT\r\n';
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length }), { maxLength: 8 }), (cuts) => {
        const c = collect();
        const buf = Buffer.from(text);
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let prev = 0;
        for (const p of [...points, buf.length]) {
          c.r.push(buf.subarray(prev, p));
          prev = p;
        }
        expect(c.lines).toEqual(['USER a', 'PASS b', 'RETR x y', 'QUIT']);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

test('RFC 4217 §4: stop() drops the rest of the chunk being split (no clear-text command survives AUTH)', () => {
  const lines: string[] = [];
  const r: ControlLineReader = new ControlLineReader(64, {
    line: (l) => {
      lines.push(l);
      if (l === 'AUTH TLS') r.stop();
    },
    overlong: () => {},
  });
  r.push(Buffer.from('AUTH TLS\r\nUSER x\r\nPASS y\r\n'));
  r.push(Buffer.from('NOOP\r\n'));
  expect(lines).toEqual(['AUTH TLS']);
});
