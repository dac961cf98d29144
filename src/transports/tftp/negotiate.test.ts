import { describe, expect, test } from 'vitest';
import { negotiateOptions } from './negotiate.ts';

describe('TFTP option negotiation', () => {
  const limits = { blksizeMax: 1468, windowsizeMax: 64, timeoutMs: 1000 };

  test('RFC 2347 §2: only options the client asked for are answered; none asked, no OACK', () => {
    expect(negotiateOptions('RRQ', new Map(), limits).oack.size).toBe(0);
    const n = negotiateOptions('RRQ', new Map([['windowsize', '4'], ['multicast', '']]), limits);
    expect([...n.oack]).toEqual([['windowsize', '4']]);
  });

  test('RFC 2348: blksize is clamped to the server maximum; below 8 it is ignored', () => {
    expect(negotiateOptions('RRQ', new Map([['blksize', '65464']]), limits).blksize).toBe(1468);
    const small = negotiateOptions('RRQ', new Map([['blksize', '7']]), limits);
    expect(small.blksize).toBe(512);
    expect(small.oack.has('blksize')).toBe(false);
    expect(negotiateOptions('RRQ', new Map([['blksize', '8']]), limits).blksize).toBe(8);
  });

  test('RFC 7440 §3: windowsize is clamped to the server maximum; 0 and junk are ignored', () => {
    expect(negotiateOptions('RRQ', new Map([['windowsize', '65535']]), limits).windowsize).toBe(64);
    expect(negotiateOptions('RRQ', new Map([['windowsize', '0']]), limits).oack.size).toBe(0);
    expect(negotiateOptions('RRQ', new Map([['windowsize', '-3']]), limits).oack.size).toBe(0);
  });

  test('RFC 2349: timeout 1–255 s is echoed and used; outside the range it is left out', () => {
    const n = negotiateOptions('RRQ', new Map([['timeout', '3']]), limits);
    expect(n.timeoutMs).toBe(3000);
    expect(n.oack.get('timeout')).toBe('3');
    expect(negotiateOptions('RRQ', new Map([['timeout', '256']]), limits).oack.size).toBe(0);
    expect(negotiateOptions('RRQ', new Map([['timeout', '0']]), limits).timeoutMs).toBe(1000);
  });

  test('RFC 2349: tsize on a WRQ announces the upload size', () => {
    const n = negotiateOptions('WRQ', new Map([['tsize', '1234']]), limits);
    expect(n.tsize).toBe(1234);
    expect(n.oack.get('tsize')).toBe('1234');
    expect(negotiateOptions('RRQ', new Map([['tsize', '0']]), limits).tsize).toBeUndefined();
  });
});
