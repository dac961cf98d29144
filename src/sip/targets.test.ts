import { describe, expect, test } from 'vitest';
import type { Mac } from '../config/types.ts';
import { formatSipUri, parseSipUri, parseTarget, resolveTargets, type Inventory, type InventoryPhone, type LineConfig, type TargetSpec } from './targets.ts';

const specs = (...a: string[]) => a.map((x) => parseTarget(x) as TargetSpec);

function fakeInventory(phones: InventoryPhone[], lines: Record<string, LineConfig>): Inventory {
  return {
    get: async (mac) => phones.find((p) => p.mac === mac),
    list: async () => phones,
    lineConfig: async (p) => lines[p.mac] ?? {},
    seenSince: async () => false,
  };
}
const opts = { transport: 'udp' as const, push: false, pushScheme: 'https' as const };

describe('notify targets (issue 6)', () => {
  test('RFC 3261 §19.1.1 SIP URIs, host[:port], MACs, all', () => {
    expect(parseTarget('sip:1001@10.0.0.5:5062;transport=tcp')).toMatchObject({ kind: 'uri' });
    expect(formatSipUri(parseSipUri('sip:1001@10.0.0.5:5062;transport=tcp')!)).toBe('sip:1001@10.0.0.5:5062;transport=tcp');
    expect(parseTarget('10.0.0.5')).toMatchObject({ kind: 'host', host: '10.0.0.5', port: undefined });
    expect(parseTarget('[::1]:5070')).toMatchObject({ kind: 'host', host: '::1', port: 5070 });
    expect(parseTarget('00:04:F2:00:00:01')).toMatchObject({ kind: 'mac', mac: '0004f2000001' });
    expect(parseTarget('ALL')).toMatchObject({ kind: 'all' });
    expect(parseTarget('phone.example.com:5060')).toMatchObject({ kind: 'host' });
    for (const bad of ['sip:', 'sip:a@b:99999', 'a b', 'host:0', 'x;y']) expect(parseTarget(bad), bad).toHaveProperty('error');
  });

  test('transport from the URI wins over --transport; sips: means TLS on 5061', async () => {
    const [a, b] = await resolveTargets(specs('sip:1@h;transport=tcp', 'sips:2@h'), undefined, opts);
    expect(a).toMatchObject({ transport: 'tcp', port: 5060 });
    expect(b).toMatchObject({ transport: 'tls', port: 5061 });
  });

  test('inventory: learned SIP user and port beat reg.1 and voIpProt.SIP.local.port; IPv4-mapped addresses are plain', async () => {
    const inv = fakeInventory(
      [{ mac: '0004f2000001' as Mac, address: '::ffff:10.0.0.5', sipUser: 'learned', sipPort: 5070 }, { mac: '0004f2000002' as Mac, address: '10.0.0.6' }],
      { '0004f2000001': { address: '1001', localPort: 5062 }, '0004f2000002': { address: '1002@pbx', userId: 'auth1002', password: 'pw', localPort: 5062 } },
    );
    const [a, b] = await resolveTargets(specs('all'), inv, opts);
    expect(a).toMatchObject({ target: '0004f2000001', host: '10.0.0.5', port: 5070, uri: { user: 'learned' } });
    expect(a!.credentials).toBeUndefined(); // no password in its configuration
    expect(b).toMatchObject({ host: '10.0.0.6', port: 5062, uri: { user: '1002' }, credentials: { user: 'auth1002', password: 'pw' } });
  });

  test('inventory: no address, or no line user, is an error for that phone rather than a NOTIFY to nobody in particular', async () => {
    const inv = fakeInventory([{ mac: '0004f2000003' as Mac }, { mac: '0004f2000004' as Mac, address: '10.0.0.7' }], {});
    const [a, b] = await resolveTargets(specs('0004f2000003', '0004f2000004'), inv, opts);
    expect(a!.error).toMatch(/no address/);
    expect(b!.error).toMatch(/no SIP user/);
    const [c] = await resolveTargets(specs('0004f2000099'), inv, opts);
    expect(c!.error).toMatch(/not in the inventory/);
  });

  test('a phone named twice (MAC and all) is notified once', async () => {
    const inv = fakeInventory([{ mac: '0004f2000001' as Mac, address: '10.0.0.5', sipUser: 'u' }], {});
    expect(await resolveTargets(specs('0004f2000001', 'all'), inv, opts)).toHaveLength(1);
  });
});
