// macOfName and isMasterName read character codes instead of a regular expression (issue 16,
// Speed): checked against the regular expressions they replaced, on chosen and random names.
import { describe, expect, it } from 'vitest';
import { isMasterName, macOfName } from './phone-names.ts';

const MAC_PREFIX = /^([0-9A-Fa-f]{12})(?=[-._]|$)/;
const MASTER = /^[0-9A-Fa-f]{12}\.cfg$/;
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const byRegex = (p: string) => {
  const m = MAC_PREFIX.exec(base(p))?.[1]?.toLowerCase();
  return m && m !== '000000000000' ? m : undefined;
};

describe('phone-layout file names (Administrator\'s Guide: <MAC>.cfg, <MAC>-phone.cfg, <MAC>-app.log)', () => {
  const chosen = [
    '0004f2000001.cfg', '0004F2000001-phone.cfg', 'overrides/0004f2000001-app.log', '0004f2000001', '0004f2000001_x',
    '000000000000.cfg', '000000000000', 'a/b/0004F2ABCDEF.CFG', '0004f2000001x.cfg', '0004f200000.cfg', '0004f2000g01.cfg',
    '', '/', 'dir/', '0004f2000001.cfg/', 'sip.ld', '0004f2000001.cfg.bak', '0004f2000001.cf', '0004f2000001.cfgx', 'x0004f2000001.cfg',
    'tenant1/000000000000.cfg', 'tenant1/0004f2000001.Cfg',
  ];
  it('the names the documents use', () => {
    for (const p of chosen) {
      expect(macOfName(p), p).toBe(byRegex(p));
      expect(isMasterName(p), p).toBe(MASTER.test(base(p)));
    }
    expect(macOfName('overrides/0004F2000001-phone.cfg')).toBe('0004f2000001');
    expect(isMasterName('a/0004F2ABCDEF.cfg')).toBe(true);
    expect(isMasterName('a/0004F2ABCDEF.CFG')).toBe(false);
  });

  it('5,000 random names agree with the regular expressions', () => {
    const alphabet = '0123456789abcdefABCDEFgG-._/x';
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const hexPart = Array.from({ length: 10 + rnd(4) }, () => '0123456789abcdefABCDEF'[rnd(22)]).join('');
      const tail = Array.from({ length: rnd(6) }, () => alphabet[rnd(alphabet.length)]).join('');
      const p = (rnd(3) === 0 ? 'd/' : '') + hexPart + (rnd(2) ? '.cfg' : '') + tail;
      expect(macOfName(p), p).toBe(byRegex(p));
      expect(isMasterName(p), p).toBe(MASTER.test(base(p)));
    }
  });
});
