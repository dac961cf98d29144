// Issue 15 "Resources", "Lists", "Writes", "Secrets" over the managed fleet (issue 14): tenants,
// sites, groups; /phones (filters, sort, cursor; PUT create — same body 200, different 409 —,
// PATCH with If-Match, DELETE); settings per scope (ETag, If-Match, secrets write-only); CSV
// import (validate / apply, the per-line report) and export (never secrets). A real HTTP client,
// bad input per route, and a scan of every response body for the secrets written.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

const SECRET = 'api-line-secret-9x7';
const SECRET2 = 'global-secret-k4';
const IMPORT_SECRET = 'imported-secret-z2';
const A = '0004f2a00001';
const B = '0004f2a00002';
const C = '0004f2b00003';
let h: ApiHarness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  for (const b of h.bodies) for (const s of [SECRET, SECRET2, IMPORT_SECRET]) expect(b).not.toContain(s);
  const changes = JSON.stringify(await h.admin.changes({ limit: 1000 }));
  for (const s of [SECRET, SECRET2, IMPORT_SECRET]) expect(changes).not.toContain(s);
  await h.close();
});

describe('issue 15 Resources: tenants, sites, groups', () => {
  test('an admin adds a tenant (201, then 200 for the same name); the list has it and the default tenant', async () => {
    const r = await h.call('POST', '/tenants', { body: { name: 'acme' } });
    expect(r.status).toBe(201);
    expect(r.json.name).toBe('acme');
    expect((await h.call('POST', '/tenants', { body: { name: 'acme' } })).status).toBe(200);
    expect((await h.call('GET', '/tenants')).json.items.map((t: { name: string }) => t.name)).toEqual(['acme', 'default']);
  });

  test('tenants are global: an operator may not add one (403), a tenant-bound token does not see them (404)', async () => {
    expect((await h.call('POST', '/tenants', { token: h.tokens.operator, body: { name: 'beta' } })).status).toBe(403);
    expect((await h.call('GET', '/tenants', { token: h.tokens.acme })).status).toBe(404);
  });

  test.each([[{ name: 'Bad Name' }, '/name'], [{}, '/name'], [{ name: 'x', extra: 1 }, '/extra']])('bad tenant body %j → 400 at %s', async (body, pointer) => {
    const r = await h.call('POST', '/tenants', { body });
    expect(r.status).toBe(400);
    expect(r.json.pointer).toBe(pointer);
  });

  test("a tenant's operator manages its sites and groups; another tenant's are 404", async () => {
    expect((await h.call('POST', '/tenants/acme/sites', { token: h.tokens.acme, body: { name: 'hq' } })).status).toBe(201);
    expect((await h.call('POST', '/tenants/acme/sites', { token: h.tokens.acme, body: { name: 'hq' } })).status).toBe(200);
    expect((await h.call('POST', '/tenants/acme/groups', { token: h.tokens.acme, body: { name: 'sales' } })).status).toBe(201);
    expect((await h.call('POST', '/tenants/acme/sites', { token: h.tokens.acme, body: { name: 'branch' } })).status).toBe(201);
    expect((await h.call('GET', '/tenants/acme/sites', { token: h.tokens.acme })).json.items.map((s: { name: string }) => s.name)).toEqual(['branch', 'hq']);
    expect((await h.call('DELETE', '/tenants/acme/sites/branch', { token: h.tokens.acme })).status).toBe(204);
    expect((await h.call('DELETE', '/tenants/acme/sites/branch', { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', '/tenants/default/sites', { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('POST', '/tenants/default/sites', { token: h.tokens.acme, body: { name: 'x' } })).status).toBe(404);
    expect((await h.call('GET', '/tenants/nosuch/groups')).status).toBe(404);
    expect((await h.call('POST', '/tenants/acme/groups', { token: h.tokens['read-only'], body: { name: 'x' } })).status).toBe(403);
  });
});

describe('issue 15 Resources: /phones writes', () => {
  const body = { tenant: 'acme', model: 'VVX410', label: 'Front desk', site: 'hq', groups: ['sales'], settings: { 'reg.1.address': '2001', 'reg.1.auth.password': SECRET } };

  test('PUT creates (201): the secret answers {"set": true}; the same body again is 200, a different one 409', async () => {
    const r = await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body });
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toMatch(/^"/);
    expect(r.json).toMatchObject({ mac: A, tenant: 'acme', model: 'VVX410', label: 'Front desk', site: 'hq', groups: ['sales'], settings: { 'reg.1.address': '2001', 'reg.1.auth.password': { set: true } } });
    const again = await h.call('PUT', `/phones/${A.toUpperCase()}`, { token: h.tokens.operator, body });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(r.headers.get('etag'));
    // PUT is the whole phone: leaving out what it has (its groups, its settings) is a different body.
    expect((await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body: { ...body, groups: undefined } })).status).toBe(409);
    expect((await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body: { ...body, settings: undefined } })).status).toBe(409);
    expect((await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body: { ...body, model: 'vvx410' } })).status).toBe(200);
    const other = await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body: { ...body, label: 'Back office' } });
    expect(other.status).toBe(409);
    expect(other.json.code).toBe('PP_FLEET_EXISTS');
    const otherSecret = await h.call('PUT', `/phones/${A}`, { token: h.tokens.operator, body: { ...body, settings: { ...body.settings, 'reg.1.auth.password': `${SECRET}-other` } } });
    expect(otherSecret.status).toBe(409);
    expect(otherSecret.text).not.toContain(SECRET);
  });

  test('settings are checked against the catalogue as the CLI does, the problem pointing at the field; nothing is created', async () => {
    const typo = await h.call('PUT', `/phones/${B}`, { body: { tenant: 'acme', settings: { 'reg.1.auth.pasword': SECRET } } });
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ code: 'PP_FLEET_PARAM_UNKNOWN', pointer: '/settings/reg.1.auth.pasword' });
    expect(typo.json.detail).toMatch(/reg\.1\.auth\.password/);
    const range = await h.call('PUT', `/phones/${B}`, { body: { tenant: 'acme', settings: { 'voIpProt.SIP.local.port': '70000' } } });
    expect(range.status).toBe(400);
    expect(range.json).toMatchObject({ code: 'PP_FLEET_PARAM_INVALID', pointer: '/settings/voIpProt.SIP.local.port' });
    expect((await h.call('GET', `/phones/${B}`)).status).toBe(404);
  });

  test.each([
    [{ tenant: 'acme', colour: 'red' }, '/colour'],
    [{ tenant: 'acme', groups: 'sales' }, '/groups'],
    [{ tenant: 'acme', settings: { 'reg.1.address': 5 } }, '/settings/reg.1.address'],
  ])('bad PUT body %j → 400 at %s', async (b, pointer) => {
    const r = await h.call('PUT', `/phones/${B}`, { body: b });
    expect(r.status).toBe(400);
    expect(r.json.pointer).toBe(pointer);
  });

  test('an unknown tenant, site or model is refused by the fleet (4xx, never 500), the problem naming the field', async () => {
    const r = await h.call('PUT', `/phones/${B}`, { body: { tenant: 'nosuch' } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.code).toMatch(/^PP_FLEET_/);
    const site = await h.call('PUT', `/phones/${B}`, { body: { tenant: 'acme', site: 'nowhere' } });
    expect(site.status).toBe(404);
    expect(site.json.code).toBe('PP_FLEET_NOT_FOUND');
    const model = await h.call('PUT', `/phones/${B}`, { body: { tenant: 'acme', model: 'VVX9999' } });
    expect(model.status).toBe(400);
    expect(model.json).toMatchObject({ code: 'PP_FLEET_PARAM_INVALID', pointer: '/model' });
  });

  test('PATCH needs If-Match: 428 without, 412 with a stale ETag, 200 with the current one (null unsets a setting)', async () => {
    const g = await h.call('GET', `/phones/${A}`);
    const etag = g.headers.get('etag')!;
    expect((await h.call('PATCH', `/phones/${A}`, { token: h.tokens.operator, body: { label: 'Lobby' } })).status).toBe(428);
    expect((await h.call('PATCH', `/phones/${A}`, { token: h.tokens.operator, body: { label: 'Lobby' }, headers: { 'if-match': '"old"' } })).status).toBe(412);
    const r = await h.call('PATCH', `/phones/${A}`, { token: h.tokens.operator, body: { label: 'Lobby', settings: { 'reg.1.address': null, 'reg.1.label': 'Desk' } }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(r.json.label).toBe('Lobby');
    expect(r.json.settings).toEqual({ 'reg.1.auth.password': { set: true }, 'reg.1.label': 'Desk' });
    expect(r.headers.get('etag')).not.toBe(etag);
    // The old ETag is now stale.
    expect((await h.call('PATCH', `/phones/${A}`, { token: h.tokens.operator, body: { label: 'X' }, headers: { 'if-match': etag } })).status).toBe(412);
    expect((await h.call('PATCH', `/phones/${A}`, { token: h.tokens.operator, body: {}, headers: { 'if-match': etag } })).status).toBe(400);
    // Every change through the API is in the change record with the token's name (the admin service's fleet records it).
    expect((await h.admin.changes({ limit: 50 })).some((c) => c.who === 't-operator' && c.target.includes(A))).toBe(true);
  });

  test('a secret changed by someone else changes the ETag, though it still reads {"set": true}: the stale PATCH is 412', async () => {
    const g = await h.call('GET', `/phones/${A}`);
    expect(g.json.settings['reg.1.auth.password']).toEqual({ set: true });
    await h.admin.fleet.apply([{ op: 'settings.set', scope: { kind: 'phone', tenant: 'acme', name: A }, values: { 'reg.1.auth.password': `${SECRET}-changed` } }]);
    const after = await h.call('GET', `/phones/${A}`);
    expect(after.json).toEqual(g.json);
    expect(after.headers.get('etag')).not.toBe(g.headers.get('etag'));
    expect((await h.call('PATCH', `/phones/${A}`, { body: { label: 'Lobby 2' }, headers: { 'if-match': g.headers.get('etag')! } })).status).toBe(412);
  });

  test("another tenant's phone is 404 on every verb for a bound token; read-only may not write", async () => {
    await h.call('PUT', `/phones/${C}`, { body: { model: 'VVX310', label: 'Default phone' } });
    for (const [m, b] of [['GET'], ['PATCH', { label: 'x' }], ['DELETE'], ['PUT', { model: 'VVX310', label: 'Default phone' }]] as Array<[string, unknown?]>) {
      expect((await h.call(m, `/phones/${C}`, { token: h.tokens.acme, ...(b ? { body: b } : {}), headers: { 'if-match': '*' } })).status, m).toBe(404);
    }
    expect((await h.call('PUT', `/phones/${B}`, { token: h.tokens['read-only'], body: { tenant: 'acme' } })).status).toBe(403);
  });
});

describe('issue 15 Lists: /phones', () => {
  beforeAll(async () => {
    await h.call('PUT', `/phones/${B}`, { body: { tenant: 'acme', model: 'VVX310', label: 'Back office', site: 'hq' } });
    await h.store.phones.recordSighting({ mac: A as Mac, at: new Date(), source: 'http', address: '10.1.0.1', appVersion: '6.4.0.1' });
    await h.store.phones.recordSighting({ mac: B as Mac, at: new Date(Date.now() - 86400_000 * 3), source: 'http', address: '10.1.0.2', appVersion: '6.3.0.9' });
  });
  const macs = (r: { json: { items: Array<{ mac: string }> } }) => r.json.items.map((p) => p.mac);

  test('filters: tenant, site, group, model, label, MAC prefix, application version, last seen', async () => {
    expect(macs(await h.call('GET', '/phones'))).toEqual([A, B, C]);
    expect(macs(await h.call('GET', '/phones?tenant=acme'))).toEqual([A, B]);
    expect(macs(await h.call('GET', '/phones?site=hq&tenant=acme'))).toEqual([A, B]);
    expect(macs(await h.call('GET', '/phones?group=sales&tenant=acme'))).toEqual([A]);
    expect(macs(await h.call('GET', '/phones?model=VVX310'))).toEqual([B, C]);
    expect(macs(await h.call('GET', '/phones?label=office'))).toEqual([B]);
    expect(macs(await h.call('GET', '/phones?macPrefix=0004F2B'))).toEqual([C]);
    expect(macs(await h.call('GET', '/phones?version=6.3.0.9'))).toEqual([B]);
    expect(macs(await h.call('GET', `/phones?seenSince=${new Date(Date.now() - 86400_000).toISOString()}`))).toEqual([A]);
    const a = (await h.call('GET', '/phones?tenant=acme')).json.items[0];
    expect(a).toMatchObject({ mac: A, appVersion: '6.4.0.1', address: '10.1.0.1' });
  });

  test('sorts (label, -lastSeen) and pages by a stable cursor', async () => {
    expect(macs(await h.call('GET', '/phones?sort=label'))).toEqual([B, C, A]);
    expect(macs(await h.call('GET', '/phones?sort=-label'))).toEqual([A, C, B]);
    expect(macs(await h.call('GET', '/phones?sort=-lastSeen'))).toEqual([A, B, C]);
    const p1 = await h.call('GET', '/phones?sort=label&limit=2');
    expect(macs(p1)).toEqual([B, C]);
    const p2 = await h.call('GET', p1.json.next.replace('/api/v1', ''));
    expect(macs(p2)).toEqual([A]);
    expect(p2.json.next).toBeUndefined();
  });

  test('a tenant-bound token lists its tenant only; naming another tenant is 404', async () => {
    expect(macs(await h.call('GET', '/phones', { token: h.tokens.acme }))).toEqual([A, B]);
    expect((await h.call('GET', '/phones?tenant=default', { token: h.tokens.acme })).status).toBe(404);
  });

  test.each(['sort=colour', 'limit=0', 'tenant=Bad!', 'macPrefix=xyz', 'seenSince=soon', 'foo=bar'])('bad query ?%s → 400', async (q) => {
    const r = await h.call('GET', `/phones?${q}`);
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('PP_API_INVALID');
  });
});

describe('issue 15 Resources: settings per scope', () => {
  test('GET /settings/global is empty with an ETag; PUT needs If-Match; a secret answers {"set": true}', async () => {
    const g = await h.call('GET', '/settings/global');
    expect(g.status).toBe(200);
    expect(g.json).toEqual({ scope: 'global', settings: {} });
    const etag = g.headers.get('etag')!;
    expect((await h.call('PUT', '/settings/global', { body: { settings: { 'tcpIpApp.sntp.address': 'ntp.example.com' } } })).status).toBe(428);
    const r = await h.call('PUT', '/settings/global', { body: { settings: { 'tcpIpApp.sntp.address': 'ntp.example.com', 'device.auth.localAdminPassword': SECRET2 } }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(r.json.settings).toEqual({ 'device.auth.localAdminPassword': { set: true }, 'tcpIpApp.sntp.address': 'ntp.example.com' });
  });

  test('PUT replaces: {"set": true} keeps a stored secret, a name left out is unset; {"set": true} for an unset secret is 400', async () => {
    const etag = (await h.call('GET', '/settings/global')).headers.get('etag')!;
    const r = await h.call('PUT', '/settings/global', { body: { settings: { 'device.auth.localAdminPassword': { set: true } } }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(r.json.settings).toEqual({ 'device.auth.localAdminPassword': { set: true } });
    const bad = await h.call('PUT', '/settings/global', { body: { settings: { 'reg.1.auth.password': { set: true } } }, headers: { 'if-match': r.headers.get('etag')! } });
    expect(bad.status).toBe(400);
    expect(bad.json.pointer).toBe('/settings/reg.1.auth.password');
  });

  test('PATCH a site of another tenant (site:acme/hq): set and unset; 412 on a stale ETag; the catalogue checks', async () => {
    const path = `/settings/${encodeURIComponent('site:acme/hq')}`;
    const g = await h.call('GET', path, { token: h.tokens.acme });
    expect(g.json.scope).toBe('site:acme/hq');
    const etag = g.headers.get('etag')!;
    const r = await h.call('PATCH', path, { token: h.tokens.acme, body: { settings: { 'reg.1.server.1.address': 'pbx.acme.example' } }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(r.json.settings).toEqual({ 'reg.1.server.1.address': 'pbx.acme.example' });
    expect((await h.call('PATCH', path, { token: h.tokens.acme, body: { settings: { 'reg.1.server.1.address': null } }, headers: { 'if-match': etag } })).status).toBe(412);
    const bad = await h.call('PATCH', path, { token: h.tokens.acme, body: { settings: { 'reg.1.server.1.port': 'eighty' } }, headers: { 'if-match': r.headers.get('etag')! } });
    expect(bad.status).toBe(400);
    expect(bad.json.pointer).toBe('/settings/reg.1.server.1.port');
    // The phone in that site now gets the site's value, scope named (explain's data).
    const eff = await (h.admin as unknown as { fleet: { effective(m: string): Array<{ name: string; scope: string }> } }).fleet.effective(A);
    expect(eff.find((e) => e.name === 'reg.1.server.1.address')?.scope).toBe('site:acme/hq');
  });

  test('scopes a bound token may not reach are 404 (global, another tenant); a malformed scope is 400; read-only may not write', async () => {
    expect((await h.call('GET', '/settings/global', { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', `/settings/phone:${C}`, { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', '/settings/tenant:default', { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', '/settings/street:x')).status).toBe(400);
    expect((await h.call('GET', '/settings/site:nosuch')).status).toBe(404);
    expect((await h.call('PATCH', '/settings/global', { token: h.tokens['read-only'], body: { settings: { a: null } }, headers: { 'if-match': '*' } })).status).toBe(403);
  });
});

describe('issue 15 Resources: CSV import and export', () => {
  const good = `mac,model,label,tenant,site,reg.1.address,reg.1.auth.password\n0004f2c00001,VVX410,Imported one,acme,hq,3001,${IMPORT_SECRET}\n0004f2c00002,VVX410,Imported two,acme,hq,3002,\n`;
  const bad = `mac,model,tenant,reg.1.adress\n0004f2c00009,VVX410,acme,1\nnot-a-mac,VVX410,acme,2\n`;

  test('mode=validate reports every bad row (FILE:LINE: column: message) and applies nothing', async () => {
    const r = await h.call('POST', '/import?mode=validate', { raw: bad, contentType: 'text/csv' });
    expect(r.status).toBe(422);
    expect(r.json.applied).toBe(false);
    expect(r.json.errors.length).toBeGreaterThanOrEqual(2);
    for (const e of r.json.errors) expect(e).toMatch(/^import\.csv:\d+: /);
    expect((await h.call('GET', '/phones/0004f2c00009')).status).toBe(404);
  });

  test('mode=validate of a good file counts what it would add; mode=apply adds; a second apply changes nothing', async () => {
    const v = await h.call('POST', '/import?mode=validate', { raw: good, contentType: 'text/csv', token: h.tokens.acme });
    expect(v.status).toBe(200);
    expect(v.json).toMatchObject({ mode: 'validate', applied: false, added: 2, errors: [] });
    expect((await h.call('GET', '/phones/0004f2c00001')).status).toBe(404);
    const a = await h.call('POST', '/import?mode=apply', { raw: good, contentType: 'text/csv', token: h.tokens.acme });
    expect(a.json).toMatchObject({ mode: 'apply', applied: true, added: 2 });
    expect((await h.call('GET', '/phones/0004f2c00001')).json.settings['reg.1.auth.password']).toEqual({ set: true });
    const again = await h.call('POST', '/import?mode=apply', { raw: good, contentType: 'text/csv' });
    expect(again.json).toMatchObject({ added: 0, changed: 0, unchanged: 2 });
  });

  test("a bound token may not import another tenant's rows; bad requests are 4xx", async () => {
    const r = await h.call('POST', '/import?mode=apply', { raw: 'mac,tenant\n0004f2c00010,default\n', contentType: 'text/csv', token: h.tokens.acme });
    expect(r.status).toBe(422);
    expect(r.json.errors[0]).toMatch(/^import\.csv:2: tenant:/);
    expect((await h.call('POST', '/import', { raw: good, contentType: 'text/csv' })).status).toBe(400);
    expect((await h.call('POST', '/import?mode=apply', { body: { csv: good } })).status).toBe(400);
    expect((await h.call('POST', '/import?mode=apply', { raw: good, contentType: 'application/xml' })).status).toBe(415);
    expect((await h.call('POST', '/import?mode=apply', { raw: good, contentType: 'text/csv', token: h.tokens['read-only'] })).status).toBe(403);
  });

  test('export is CSV with the phones and no secret; a bound token exports its tenant only', async () => {
    const r = await h.call('GET', '/export');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.text).toMatch(/^mac,/);
    expect(r.text).toContain('0004f2c00001');
    expect(r.text).toContain(C);
    const mine = await h.call('GET', '/export', { token: h.tokens.acme });
    expect(mine.text).toContain('0004f2c00001');
    expect(mine.text).not.toContain(C);
    expect((await h.call('GET', '/export?tenant=default', { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', '/export?tenant=nosuch')).status).toBe(404);
  });

  test('a tenant that still has phones is not removed (409, what to do first); an empty one is (204)', async () => {
    const r = await h.call('DELETE', '/tenants/acme');
    expect(r.status).toBe(409);
    expect(r.json.code).toMatch(/^PP_FLEET_/);
    expect((await h.call('POST', '/tenants', { body: { name: 'spare' } })).status).toBe(201);
    expect((await h.call('DELETE', '/tenants/spare', { token: h.tokens.operator })).status).toBe(403);
    expect((await h.call('DELETE', '/tenants/spare')).status).toBe(204);
    expect((await h.call('DELETE', '/tenants/spare')).status).toBe(404);
  });

  test('DELETE /phones/:mac removes the phone (If-Match checked when given)', async () => {
    expect((await h.call('DELETE', `/phones/${B}`, { headers: { 'if-match': '"stale"' } })).status).toBe(412);
    expect((await h.call('DELETE', `/phones/${B}`, { token: h.tokens.acme })).status).toBe(204);
    expect((await h.call('GET', `/phones/${B}`)).status).toBe(404);
  });
});
