import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_TENANT, type Mac, type ManagedPhone, type Scope } from '../domain.ts';
import { checkFleetName, formatScope, parseScope, phoneScopes, scopeKey } from './scope.ts';
import { codeOf } from '../../test/support/thrown.ts';

describe('scopes (issue 14, Model: settings at global, tenant:T, site:S, group:G, phone:MAC)', () => {
  test('issue 14 Model: each text form parses to its scope', () => {
    expect(parseScope('global')).toEqual({ kind: 'global', tenant: '', name: '' });
    expect(parseScope('tenant:acme')).toEqual({ kind: 'tenant', tenant: 'acme', name: 'acme' });
    expect(parseScope('site:hq')).toEqual({ kind: 'site', tenant: DEFAULT_TENANT, name: 'hq' });
    expect(parseScope('site:hq', 'acme')).toEqual({ kind: 'site', tenant: 'acme', name: 'hq' });
    expect(parseScope('site:acme/hq')).toEqual({ kind: 'site', tenant: 'acme', name: 'hq' });
    expect(parseScope('group:acme/sales', 'other')).toEqual({ kind: 'group', tenant: 'acme', name: 'sales' });
    expect(parseScope('group:sales')).toEqual({ kind: 'group', tenant: DEFAULT_TENANT, name: 'sales' });
  });

  test('issue 14 Model: phone:MAC takes any MAC spelling and normalises it to lowercase hex', () => {
    for (const m of ['0004F2ABCDEF', '00:04:f2:ab:cd:ef', '00-04-F2-AB-CD-EF', '0004.f2ab.cdef']) {
      expect(parseScope(`phone:${m}`)).toEqual({ kind: 'phone', tenant: DEFAULT_TENANT, name: '0004f2abcdef' });
    }
    expect(parseScope('phone:0004f2abcdef', 'acme').tenant).toBe('acme');
  });

  test.each(['', 'globl', 'site:', 'site:HQ', 'site:acme/', 'site:/hq', 'site:a/b/c', 'tenant:Acme', 'tenant:-x', 'group:sales team', 'phone:0004f2', 'phone:zz04f2abcdef', 'city:paris', `site:${'a'.repeat(64)}`])(
    'issue 14 Model: "%s" is refused with PP_FLEET_SCOPE_INVALID',
    (text) => {
      expect(codeOf(() => parseScope(text))).toBe('PP_FLEET_SCOPE_INVALID');
    },
  );

  test('issue 14 Model: an invalid default tenant for a short site name is refused too', () => {
    expect(codeOf(() => parseScope('site:hq', 'Bad Tenant'))).toBe('PP_FLEET_SCOPE_INVALID');
  });

  test('issue 14 Model: formatScope prints default-tenant sites and groups without the tenant', () => {
    expect(formatScope(parseScope('site:default/hq'))).toBe('site:hq');
    expect(formatScope(parseScope('group:acme/sales'))).toBe('group:acme/sales');
    expect(formatScope(parseScope('phone:00:04:F2:00:00:01', 'acme'))).toBe('phone:0004f2000001');
    expect(formatScope(parseScope('tenant:acme'))).toBe('tenant:acme');
    expect(formatScope(parseScope('global'))).toBe('global');
  });

  const nameArb = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/);
  const scopeArb: fc.Arbitrary<Scope> = fc.oneof(
    fc.constant<Scope>({ kind: 'global', tenant: '', name: '' }),
    nameArb.map((t): Scope => ({ kind: 'tenant', tenant: t, name: t })),
    fc.tuple(fc.constantFrom<'site' | 'group'>('site', 'group'), fc.oneof(fc.constant(DEFAULT_TENANT), nameArb), nameArb).map(([kind, tenant, name]): Scope => ({ kind, tenant, name })),
    fc.tuple(fc.oneof(fc.constant(DEFAULT_TENANT), nameArb), fc.stringMatching(/^[0-9a-f]{12}$/)).map(([tenant, name]): Scope => ({ kind: 'phone', tenant, name })),
  );

  test('property (issue 14 Model): parseScope(formatScope(s), s.tenant) == s, and scopeKey is injective', () => {
    fc.assert(
      fc.property(scopeArb, (s) => {
        expect(parseScope(formatScope(s), s.tenant || DEFAULT_TENANT)).toEqual(s);
      }),
      { seed: 14, numRuns: 300 },
    );
    fc.assert(
      fc.property(scopeArb, scopeArb, (a, b) => {
        const same = a.kind === b.kind && a.name === b.name && (a.kind === 'phone' || a.tenant === b.tenant);
        expect(scopeKey(a) === scopeKey(b)).toBe(same);
      }),
      { seed: 15, numRuns: 500 },
    );
  });

  test('issue 14 Model: scopeKey names the tenant of every site and group, and a phone by its MAC alone', () => {
    expect(scopeKey(parseScope('site:hq'))).toBe('site:default/hq');
    expect(scopeKey(parseScope('site:acme/hq'))).toBe('site:acme/hq');
    expect(scopeKey(parseScope('group:hq'))).not.toBe(scopeKey(parseScope('site:hq')));
    expect(scopeKey(parseScope('phone:0004f2000001', 'a'))).toBe(scopeKey(parseScope('phone:0004f2000001', 'b')));
  });

  test('issue 14 Model: precedence, highest first: phone, groups in the phone order, site, tenant, global', () => {
    const p: ManagedPhone = { mac: '0004f2000001' as Mac, tenant: 'acme', site: 'hq', groups: ['sales', 'floor2'], createdAt: new Date(0), updatedAt: new Date(0) };
    expect(phoneScopes(p).map(formatScope)).toEqual(['phone:0004f2000001', 'group:acme/sales', 'group:acme/floor2', 'site:acme/hq', 'tenant:acme', 'global']);
    const bare: ManagedPhone = { mac: '0004f2000002' as Mac, tenant: DEFAULT_TENANT, groups: [], createdAt: new Date(0), updatedAt: new Date(0) };
    expect(phoneScopes(bare).map(formatScope)).toEqual(['phone:0004f2000002', 'tenant:default', 'global']);
  });

  test('issue 14 Model: checkFleetName accepts URL-safe names and refuses others', () => {
    expect(checkFleetName('tenant', 'acme-1_x')).toBe('acme-1_x');
    expect(codeOf(() => checkFleetName('tenant', 'Acme'))).toBe('PP_FLEET_SCOPE_INVALID');
    expect(codeOf(() => checkFleetName('site', 'a/b'))).toBe('PP_FLEET_SCOPE_INVALID');
    expect(codeOf(() => checkFleetName('group', ''))).toBe('PP_FLEET_SCOPE_INVALID');
  });
});
