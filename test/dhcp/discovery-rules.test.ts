// The virtual phone's choice rules (src/phone/discovery.ts), without sockets.
import { describe, expect, test } from 'vitest';
import { chooseInformAnswer, isValidServerString, pickBootServer } from '../../src/phone/discovery.ts';
import type { Reply } from '../../src/dhcp/client.ts';
import type { DhcpPacket } from '../../src/dhcp/packet.ts';

const opts = (o: Record<number, string | number[]>) => new Map(Object.entries(o).map(([k, v]) => [Number(k), typeof v === 'string' ? Buffer.from(v) : Buffer.from(v)]));
const reply = (from: string, o: Record<number, string | number[]>): Reply => ({
  packet: { options: opts(o) } as DhcpPacket,
  type: 5,
  from: { address: from, port: 67 },
});

describe('guide, Server Menu: Server Address formats', () => {
  test('dotted IP, domain name or URL, each with an optional directory', () => {
    for (const ok of ['192.0.2.10', '192.0.2.10/prov', 'prov.example.com', 'http://prov.example.com/dir/', 'https://192.0.2.10:8443/x', 'ftp://user:pw@192.0.2.10/', 'tftp://boot']) {
      expect(isValidServerString(ok), ok).toBe(true);
    }
    for (const bad of ['', '0.0.0.0', '999.1.1.1', 'has space', 'http://', '-bad-.com', 'x'.repeat(300), 'gopher://x/']) {
      expect(isValidServerString(bad), bad).toBe(false);
    }
  });
});

describe('guide, DHCP Menu: Boot Server modes on one DHCP reply', () => {
  const both = opts({ 66: 'http://sixty-six/', 150: [192, 0, 2, 10] });
  test('0=Option 66 reads option 66 (string)', () => {
    expect(pickBootServer(both, { mode: 'option66', customOption: 150, optionType: 'ip', readOption160: undefined })).toEqual({ server: 'http://sixty-six/', option: 66 });
  });
  test('white paper Stage 1: UCS also reads 160, preferred over 66 when both are given (facts §5.1)', () => {
    const m = opts({ 66: 'tftp://a/', 160: 'https://b/' });
    expect(pickBootServer(m, { mode: 'option66', customOption: undefined, optionType: undefined, readOption160: undefined })).toEqual({ server: 'https://b/', option: 160 });
    expect(pickBootServer(m, { mode: 'option66', customOption: undefined, optionType: undefined, readOption160: false })).toEqual({ server: 'tftp://a/', option: 66 });
  });
  test('1=Custom reads the custom option in its type (IP Address)', () => {
    expect(pickBootServer(both, { mode: 'custom', customOption: 150, optionType: 'ip', readOption160: undefined })).toEqual({ server: '192.0.2.10', option: 150 });
    expect(pickBootServer(opts({ 66: 'http://x/' }), { mode: 'custom', customOption: 150, optionType: 'ip', readOption160: undefined })).toBeUndefined();
  });
  test('3=Custom+Option 66: "first use the custom option if present or use Option 66 if the custom option is not present"', () => {
    expect(pickBootServer(both, { mode: 'custom+option66', customOption: 150, optionType: 'ip', readOption160: undefined })?.option).toBe(150);
    expect(pickBootServer(opts({ 66: 'http://x/' }), { mode: 'custom+option66', customOption: 150, optionType: 'ip', readOption160: undefined })?.option).toBe(66);
  });
  test('an IP-type custom option of the wrong length, or a 0.0.0.0 string, is not a valid value', () => {
    expect(pickBootServer(opts({ 150: [192, 0, 2] }), { mode: 'custom', customOption: 150, optionType: 'ip', readOption160: undefined })).toBeUndefined();
    expect(pickBootServer(opts({ 66: '0.0.0.0' }), { mode: 'option66', customOption: undefined, optionType: undefined, readOption160: undefined })).toBeUndefined();
  });
  test('trailing NULs on option 66 (dnsmasq and others NUL-terminate) are ignored', () => {
    expect(pickBootServer(opts({ 66: 'http://x/\0' }), { mode: 'option66', customOption: undefined, optionType: undefined, readOption160: undefined })?.server).toBe('http://x/');
  });
});

describe('guide, DHCP Menu note: several alternate DHCP servers answer the INFORM', () => {
  const replies = [
    reply('192.0.2.1', { 66: 'http://first-66/' }),
    reply('192.0.2.2', { 150: 'bogus' }), // 5 bytes: no IPv4 address
    reply('192.0.2.3', { 150: [192, 0, 2, 33], 66: 'http://third-66/' }),
    reply('192.0.2.4', { 150: [192, 0, 2, 44] }),
  ];
  const o = { customOption: 150, optionType: 'ip' as const, readOption160: undefined };
  test('Custom+Option66: "select the first response that contains a valid custom option value"', () => {
    const c = chooseInformAnswer(replies, { ...o, mode: 'custom+option66' });
    expect(c?.reply.from.address).toBe('192.0.2.3');
    expect(c?.pick).toEqual({ server: '192.0.2.33', option: 150 });
  });
  test('Custom+Option66: "If none … contain a custom option value … the first response that contains a valid option66 value"', () => {
    const c = chooseInformAnswer([replies[1], replies[0]], { ...o, mode: 'custom+option66' });
    expect(c?.reply.from.address).toBe('192.0.2.1');
  });
  test('Option 66: the first response with option 66', () => {
    expect(chooseInformAnswer(replies, { ...o, mode: 'option66' })?.reply.from.address).toBe('192.0.2.1');
  });
  test('no valid value anywhere: nothing chosen', () => {
    expect(chooseInformAnswer([replies[1]], { ...o, mode: 'custom+option66' })).toBeUndefined();
  });
});

describe('guide, Server Menu: "The boot server to use if the DHCP client is disabled"', () => {
  test('no DHCP endpoint: the static server, else the cache (no socket opened)', async () => {
    const { discoverBootServer } = await import('../../src/phone/discovery.ts');
    const base = { mac: '0004f2000001', model: 'SPIP650', mode: 'option66' as const, timeoutMs: 100 };
    expect(await discoverBootServer({ ...base, staticServer: 'http://static/' })).toMatchObject({ server: 'http://static/', stage: 'static' });
    expect(await discoverBootServer({ ...base, staticServer: '0.0.0.0', cached: 'http://cached/' })).toMatchObject({ server: 'http://cached/', stage: 'cache' });
    expect(await discoverBootServer({ ...base, staticServer: null })).toMatchObject({ server: null, stage: 'cache' });
  });

  test('guide, DHCP Menu: Boot Server Option outside 128–254 is refused', async () => {
    const { discoverBootServer } = await import('../../src/phone/discovery.ts');
    await expect(discoverBootServer({ mac: '0004f2000001', model: 'SPIP650', mode: 'custom', customOption: 66, timeoutMs: 100 })).rejects.toThrow(RangeError);
  });
});
