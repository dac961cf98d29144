import { describe, expect, test } from 'vitest';
import type { Mac, ManagedPhone } from '../domain.ts';
import { effectiveSettings, type ScopeValues } from './effective.ts';

const phone: ManagedPhone = { mac: '0004f2000001' as Mac, tenant: 'acme', site: 'hq', groups: ['sales', 'floor2'], createdAt: new Date(0), updatedAt: new Date(0) };

function store(rows: Record<string, Record<string, string>>, secrets: string[] = []): (k: string) => ScopeValues | undefined {
  const m = new Map<string, ScopeValues>();
  for (const [k, vals] of Object.entries(rows)) m.set(k, new Map(Object.entries(vals).map(([n, v]) => [n, { value: v, secret: secrets.includes(n) }])));
  return (k) => m.get(k);
}

describe('effective managed settings (issue 14, Model: "Precedence among managed scopes, highest first: phone, groups in the phone\'s order, site, tenant, global")', () => {
  test('issue 14 Model: precedence across every scope, with what each shadowed, highest first', () => {
    const at = store({
      global: { 'prov.polling.mode': 'abs', 'tcpIpApp.sntp.address': 'pool.ntp.org', 'reg.1.label': 'g' },
      'tenant:acme': { 'prov.polling.mode': 'rel', 'reg.1.label': 't' },
      'site:acme/hq': { 'reg.1.label': 's' },
      'group:acme/floor2': { 'reg.1.label': 'g2' },
      'group:acme/sales': { 'reg.1.label': 'g1' },
      'phone:0004f2000001': { 'reg.1.label': 'p', 'reg.1.auth.password': 'pw' },
    }, ['reg.1.auth.password']);
    expect(effectiveSettings(phone, at)).toEqual([
      { name: 'prov.polling.mode', value: 'rel', secret: false, scope: 'tenant:acme', shadowed: [{ scope: 'global', value: 'abs' }] },
      { name: 'reg.1.auth.password', value: 'pw', secret: true, scope: 'phone:0004f2000001', shadowed: [] },
      {
        name: 'reg.1.label',
        value: 'p',
        secret: false,
        scope: 'phone:0004f2000001',
        shadowed: [
          { scope: 'group:acme/sales', value: 'g1' },
          { scope: 'group:acme/floor2', value: 'g2' },
          { scope: 'site:acme/hq', value: 's' },
          { scope: 'tenant:acme', value: 't' },
          { scope: 'global', value: 'g' },
        ],
      },
      { name: 'tcpIpApp.sntp.address', value: 'pool.ntp.org', secret: false, scope: 'global', shadowed: [] },
    ]);
  });

  test("issue 14 Model: groups count in the phone's order: swapping them swaps the winner", () => {
    const at = store({ 'group:acme/sales': { 'reg.1.label': 'sales' }, 'group:acme/floor2': { 'reg.1.label': 'floor2' } });
    expect(effectiveSettings(phone, at)[0]!.value).toBe('sales');
    expect(effectiveSettings({ ...phone, groups: ['floor2', 'sales'] }, at)[0]!.value).toBe('floor2');
  });

  test("issue 14 Model: scopes the phone is not in do not count (another tenant's site, another phone)", () => {
    const at = store({ 'site:other/hq': { 'reg.1.label': 'x' }, 'phone:0004f2000002': { 'reg.1.label': 'y' }, 'site:default/hq': { 'reg.1.label': 'z' } });
    expect(effectiveSettings(phone, at)).toEqual([]);
    const bare: ManagedPhone = { ...phone, tenant: 'default', site: undefined, groups: [] };
    expect(effectiveSettings(bare, at)).toEqual([]);
  });

  test('issue 14 Model: output is sorted by name whatever order the scopes hold them in', () => {
    const at = store({ global: { b: '1', a: '2', 'B.upper': '3' } });
    expect(effectiveSettings(phone, at).map((s) => s.name)).toEqual(['B.upper', 'a', 'b']);
  });
});
