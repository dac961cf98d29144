import { describe, expect, test } from 'vitest';
import { parseCidr, plainAddress } from './address.ts';

describe('plainAddress (RFC 4291 §2.5.5.2 IPv4-mapped addresses)', () => {
  test('IPv4-mapped, dotted or in hex groups, any case, bracketed or spelt out, is the IPv4 address', () => {
    expect(plainAddress('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(plainAddress('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(plainAddress('::FFFF:C0A8:0101')).toBe('192.168.1.1');
    expect(plainAddress('[::ffff:10.0.0.5]')).toBe('10.0.0.5');
    expect(plainAddress('0:0:0:0:0:ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(plainAddress('0000:0000:0000:0000:0000:ffff:0a00:0005')).toBe('10.0.0.5');
    expect(plainAddress('::ffff:1.2.3.4%eth0')).toBe('1.2.3.4');
  });

  test('IPv4 and other IPv6 addresses stay what they are (brackets dropped, zone id kept)', () => {
    expect(plainAddress('10.0.0.5')).toBe('10.0.0.5');
    expect(plainAddress('::1')).toBe('::1');
    expect(plainAddress('[::1]')).toBe('::1');
    expect(plainAddress('2001:db8::ffff:1.2.3.4')).toBe('2001:db8::ffff:1.2.3.4');
    expect(plainAddress('::ffff:0:1.2.3.4')).toBe('::ffff:0:1.2.3.4'); // IPv4-translated (RFC 2765), not mapped
    expect(plainAddress('::1.2.3.4')).toBe('::1.2.3.4'); // deprecated IPv4-compatible, not mapped
    expect(plainAddress('fe80::1%eth0')).toBe('fe80::1%eth0');
  });

  test('what is not an address is returned as given; a closed socket (undefined) is empty', () => {
    expect(plainAddress('::ffff:phone.example')).toBe('::ffff:phone.example');
    expect(plainAddress('::ffff:1.2.3.400')).toBe('::ffff:1.2.3.400');
    expect(plainAddress('phone.example')).toBe('phone.example');
    expect(plainAddress(undefined)).toBe('');
    expect(plainAddress('')).toBe('');
  });
});

test('parseCidr: allow-list entries are addresses or networks with a prefix length in range', () => {
  expect(parseCidr('10.0.0.0/8')).toEqual({ net: '10.0.0.0', bits: 8, type: 'ipv4' });
  expect(parseCidr('192.168.1.5')).toEqual({ net: '192.168.1.5', bits: 32, type: 'ipv4' });
  expect(parseCidr('2001:db8::/32')).toEqual({ net: '2001:db8::', bits: 32, type: 'ipv6' });
  for (const bad of ['10.0.0.0/33', '::1/129', '10.0.0.0/-1', '10.0.0.0/8/8', 'lan', '10.0.0.0/', '/8', '10.0.0.0/ 8']) expect(parseCidr(bad)).toBeUndefined();
});
