// Issue 15 "Resources": the inventory (joined to /phones by MAC), a phone's boot timeline and
// uploaded logs, its uploads with versions (get, diff, restore, Reset Local Config) and its
// contact directory (read; write validated as lint does, If-Match) — over a real HTTP client,
// with bad input per route and a scan of every response body for the secrets planted.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac, UploadKey } from '../../src/domain.ts';
import { MAC1, MAC2 } from '../support/tree.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

const M1 = MAC1 as Mac;
const M2 = MAC2 as Mac;
const PHONE_SECRET = 'user-typed-secret-4711';
const OLD_SECRET = 'older-secret-0815';

let h: ApiHarness;
const t0 = new Date(Date.now() - 3600_000);

async function upload(key: UploadKey, text: string, at = '10.0.0.5'): Promise<void> {
  const sink = await h.store.uploads.begin(key, { mode: 'replace', address: at, maxBytes: 1 << 20, keepVersions: 10 });
  await sink.write(Buffer.from(text));
  await sink.commit();
}

beforeAll(async () => {
  h = await startApi();
  const s = h.store;
  await s.phones.recordSighting({ mac: M1, at: t0, source: 'http', address: '10.0.0.5', model: 'VVX410', appVersion: '6.4.0.1000', stage: 'application', bootStart: true, userAgent: 'FileTransport PolycomVVX-VVX_410-UA/6.4.0.1000' });
  await s.phones.recordSighting({ mac: M1, at: new Date(t0.getTime() + 1000), source: 'http', address: '10.0.0.5', file: { path: 'site.cfg', op: 'read', status: '200' } });
  await s.phones.recordSighting({ mac: M2, at: new Date(t0.getTime() + 5000), source: 'tftp', address: '10.0.0.6', model: 'VVX310', appVersion: '5.9.0.1', error: 'PP_UPLOAD_TOO_LARGE logs/x' });
  await s.audit.append([
    { at: t0, mac: M1, address: '10.0.0.5', transport: 'http', op: 'read', path: '000000000000.cfg', status: '200', bytes: 300, durationMs: 1 },
    { at: new Date(t0.getTime() + 1000), mac: M1, address: '10.0.0.5', transport: 'http', op: 'read', path: 'site.cfg', status: '200', bytes: 100, durationMs: 1 },
  ]);
  await upload({ mac: M1, kind: 'override-phone', path: `overrides/${M1}-phone.cfg` }, `<PHONE_CONFIG><OVERRIDES reg.1.label="Old" reg.1.auth.password="${OLD_SECRET}"/></PHONE_CONFIG>`);
  await upload({ mac: M1, kind: 'override-phone', path: `overrides/${M1}-phone.cfg` }, `<PHONE_CONFIG><OVERRIDES reg.1.label="Mine" reg.1.auth.password="${PHONE_SECRET}"/></PHONE_CONFIG>`);
  await upload({ mac: M1, kind: 'log-app', path: `logs/${M1}-app.log` }, 'line one\nline two\n');
});
afterAll(async () => {
  // Secrets are write-only: no response body of this suite carries one (issue 15 "Secrets").
  for (const b of h.bodies) {
    expect(b).not.toContain(PHONE_SECRET);
    expect(b).not.toContain(OLD_SECRET);
    expect(b).not.toContain('line-one-secret');
  }
  await h.close();
});

describe('issue 15 Resources: /inventory', () => {
  test('lists phones seen, joined to /phones by MAC (managed null when not managed), sorted by MAC', async () => {
    const r = await h.call('GET', '/inventory');
    expect(r.status).toBe(200);
    expect(r.json.items.map((p: { mac: string }) => p.mac)).toEqual([M1, M2]);
    const p1 = r.json.items[0];
    expect(p1).toMatchObject({ mac: M1, tenant: 'default', model: 'VVX410', appVersion: '6.4.0.1000', address: '10.0.0.5', managed: null });
    expect(p1.lastBoot).toBe(t0.toISOString());
    expect(r.json.items[1].lastError).toMatch(/PP_UPLOAD_TOO_LARGE/);
  });

  test('filters (model, application version, MAC prefix, error) and sorts by last seen', async () => {
    expect((await h.call('GET', '/inventory?model=VVX310')).json.items.map((p: { mac: string }) => p.mac)).toEqual([M2]);
    expect((await h.call('GET', '/inventory?version=6.4.0.1000')).json.items.map((p: { mac: string }) => p.mac)).toEqual([M1]);
    expect((await h.call('GET', '/inventory?macPrefix=0004F2000002')).json.items.map((p: { mac: string }) => p.mac)).toEqual([M2]);
    expect((await h.call('GET', '/inventory?error=true')).json.items.map((p: { mac: string }) => p.mac)).toEqual([M2]);
    expect((await h.call('GET', '/inventory?sort=-lastSeen')).json.items.map((p: { mac: string }) => p.mac)).toEqual([M2, M1]);
  });

  test('pages with a cursor: limit=1 then the next link gives the second phone and no further link', async () => {
    const a = await h.call('GET', '/inventory?limit=1');
    expect(a.json.items.map((p: { mac: string }) => p.mac)).toEqual([M1]);
    expect(a.json.next).toMatch(/^\/api\/v1\/inventory\?/);
    const b = await h.call('GET', a.json.next.replace('/api/v1', ''));
    expect(b.json.items.map((p: { mac: string }) => p.mac)).toEqual([M2]);
    expect(b.json.next).toBeUndefined();
  });

  test.each([
    ['limit=0', '/query/limit'],
    ['sort=size', '/query/sort'],
    ['macPrefix=zz', '/query/macPrefix'],
    ['colour=red', '/query/colour'],
    ['seenSince=yesterday', '/query/seenSince'],
    ['cursor=not-a-cursor', '/cursor'],
  ])('bad input ?%s is a 400 problem+json naming the field', async (q, pointer) => {
    const r = await h.call('GET', `/inventory?${q}`);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.json.code).toMatch(/^PP_/);
    expect(r.json.pointer).toBe(pointer);
  });

  test('one phone by MAC (any case); unknown 404; malformed 400', async () => {
    expect((await h.call('GET', `/inventory/${M1.toUpperCase()}`)).json.mac).toBe(M1);
    expect((await h.call('GET', '/inventory/0004f2999999')).status).toBe(404);
    expect((await h.call('GET', '/inventory/0004f2')).status).toBe(400);
  });

  test('a token bound to tenant acme sees none of the default tenant\'s phones: empty list, 404 on each (not 403)', async () => {
    const r = await h.call('GET', '/inventory', { token: h.tokens.acme });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([]);
    for (const path of [`/inventory/${M1}`, `/phones/${M1}/timeline`, `/phones/${M1}/logs`, `/phones/${M1}/uploads`, `/phones/${M1}/directory`]) {
      expect((await h.call('GET', path, { token: h.tokens.acme })).status, path).toBe(404);
    }
  });
});

describe('issue 15 Who may do what: the inventory by tenant', () => {
  test("a phone seen reading tenant acme's master, or managed in acme, is acme's: its token lists and reads it, the default tenant's token does too", async () => {
    await h.admin.fleet.apply([{ op: 'tenant.add', tenant: 'acme' }, { op: 'phone.put', phone: { mac: '0004f2000a02' as Mac, tenant: 'acme', model: 'VVX410' } }]);
    await h.store.phones.recordSighting({ mac: '0004f2000a01' as Mac, at: new Date(), source: 'http', address: '10.9.0.1', master: 'acme/000000000000.cfg', file: { path: 'acme/000000000000.cfg', op: 'read', status: '200' } });
    await h.store.phones.recordSighting({ mac: '0004f2000a02' as Mac, at: new Date(), source: 'http', address: '10.9.0.2' });
    const r = await h.call('GET', '/inventory', { token: h.tokens.acme });
    expect(r.json.items.map((p: { mac: string; tenant: string }) => [p.mac, p.tenant])).toEqual([['0004f2000a01', 'acme'], ['0004f2000a02', 'acme']]);
    expect(r.json.items[1].managed).toMatchObject({ tenant: 'acme', model: 'VVX410', groups: [] });
    expect((await h.call('GET', '/inventory/0004f2000a01', { token: h.tokens.acme })).status).toBe(200);
    expect((await h.call('GET', '/inventory?managed=true')).json.items.map((p: { mac: string }) => p.mac)).toEqual(['0004f2000a02']);
  });
});

describe('issue 15 Resources: timeline and logs', () => {
  test('the boot timeline lists each boot with the requests it made', async () => {
    const r = await h.call('GET', `/phones/${M1}/timeline`);
    expect(r.status).toBe(200);
    expect(r.json.boots).toHaveLength(1);
    expect(r.json.boots[0].at).toBe(t0.toISOString());
    expect(r.json.boots[0].requests.map((e: { path: string }) => e.path).sort()).toEqual(['000000000000.cfg', 'site.cfg']);
    expect((await h.call('GET', `/phones/${M1}/timeline?boots=0`)).status).toBe(400);
    expect((await h.call('GET', '/phones/0004f2999999/timeline')).status).toBe(404);
  });

  test('the uploaded logs: current version with its text; ?bytes= keeps the tail', async () => {
    const r = await h.call('GET', `/phones/${M1}/logs`);
    expect(r.status).toBe(200);
    expect(r.json.logs).toEqual([expect.objectContaining({ kind: 'app', path: `logs/${M1}-app.log`, text: 'line one\nline two\n', truncated: false })]);
    const t = await h.call('GET', `/phones/${M1}/logs?kind=app&bytes=9`);
    expect(t.json.logs[0]).toMatchObject({ text: 'line two\n', truncated: true });
    expect((await h.call('GET', `/phones/${M1}/logs?kind=debug`)).status).toBe(400);
  });
});

describe('issue 15 Resources: uploads', () => {
  test('lists each upload with its versions, newest first', async () => {
    const r = await h.call('GET', `/phones/${M1}/uploads`);
    expect(r.status).toBe(200);
    const o = r.json.items.find((u: { kind: string }) => u.kind === 'override-phone');
    expect(o.path).toBe(`overrides/${M1}-phone.cfg`);
    expect(o.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(r.json.items.map((u: { kind: string }) => u.kind)).toEqual(['override-phone', 'log-app']);
  });

  test('a version of an override is its parameters, the secret as {"set": true}', async () => {
    const r = await h.call('GET', `/phones/${M1}/uploads/override-phone?version=1`);
    expect(r.status).toBe(200);
    expect(r.json.file.version).toBe(1);
    expect(r.json.params).toEqual([
      { name: 'reg.1.label', value: 'Old', line: 1 },
      { name: 'reg.1.auth.password', value: { set: true }, line: 1 },
    ]);
    expect(r.json.text).toBeUndefined();
    expect((await h.call('GET', `/phones/${M1}/uploads/override-phone?version=9`)).status).toBe(404);
    expect((await h.call('GET', `/phones/${M1}/uploads/firmware`)).status).toBe(400);
  });

  test('the diff against the server\'s files masks the secret on both sides', async () => {
    const r = await h.call('GET', `/phones/${M1}/uploads/diff`);
    expect(r.status).toBe(200);
    const pw = r.json.items.find((d: { name: string }) => d.name === 'reg.1.auth.password');
    expect(pw).toMatchObject({ kind: 'phone', phone: { set: true }, server: { set: true } });
    expect(pw.source).toMatch(new RegExp(`${M1}-line.cfg:1`));
    expect(r.json.items.find((d: { name: string }) => d.name === 'reg.1.label')).toMatchObject({ phone: 'Mine', server: null });
  });

  test('restore makes version 1 current as version 3 (operator); read-only is 403; bad body 400', async () => {
    expect((await h.call('POST', `/phones/${M1}/uploads/override-phone/restore`, { token: h.tokens['read-only'], body: { version: 1 } })).status).toBe(403);
    expect((await h.call('POST', `/phones/${M1}/uploads/override-phone/restore`, { token: h.tokens.operator, body: { version: '1' } })).status).toBe(400);
    expect((await h.call('POST', `/phones/${M1}/uploads/override-phone/restore`, { token: h.tokens.operator, body: { version: 1, force: true } })).json.pointer).toBe('/force');
    const missing = await h.call('POST', `/phones/${M1}/uploads/override-phone/restore`, { token: h.tokens.operator, body: { version: 7 } });
    expect(missing.status).toBe(404);
    const r = await h.call('POST', `/phones/${M1}/uploads/override-phone/restore`, { token: h.tokens.operator, body: { version: 1 } });
    expect(r.status).toBe(200);
    expect(r.json.file.version).toBe(3);
    expect(r.json.params[0]).toEqual({ name: 'reg.1.label', value: 'Old', line: 1 });
    const current = await h.store.uploads.current({ mac: M1, kind: 'override-phone', path: `overrides/${M1}-phone.cfg` });
    expect((await current!.read()).toString()).toContain('reg.1.label="Old"');
    const change = (await h.admin.changes({ limit: 5 })).find((c) => c.operation === 'uploads.restore');
    expect(change).toMatchObject({ who: 't-operator', target: M1 });
  });

  test('DELETE is Reset Local Config: an empty override stored (not deleted), recorded with the token name', async () => {
    expect((await h.call('DELETE', `/phones/${M1}/uploads`, { token: h.tokens['read-only'] })).status).toBe(403);
    const r = await h.call('DELETE', `/phones/${M1}/uploads`, { token: h.tokens.operator });
    expect(r.status).toBe(200);
    expect(r.json.cleared).toContain(`overrides/${M1}-phone.cfg`);
    const current = await h.store.uploads.current({ mac: M1, kind: 'override-phone', path: `overrides/${M1}-phone.cfg` });
    expect((await current!.read()).toString()).not.toContain('reg.1');
    expect((await h.admin.changes({ limit: 5 })).find((c) => c.operation === 'overrides.clear')?.who).toBe('t-operator');
  });
});

describe('issue 15 Resources: the contact directory', () => {
  const good = '<directory><item_list><item><fn>Ann</fn><ct>1001</ct></item><item><fn>Bob</fn><ct>1002</ct></item></item_list></directory>';

  test('none stored: 404; a first PUT needs no If-Match and answers 201 with an ETag; GET gives it back', async () => {
    expect((await h.call('GET', `/phones/${M2}/directory`)).status).toBe(404);
    const r = await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body: { xml: good } });
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toMatch(/^"/);
    const g = await h.call('GET', `/phones/${M2}/directory`);
    expect(g.json.xml).toBe(good);
    expect(g.headers.get('etag')).toBe(r.headers.get('etag'));
    const key = { mac: M2, kind: 'directory' as const, path: g.json.path };
    expect((await h.store.uploads.current(key))?.version).toBe(1);
  });

  test('an update without If-Match is 428, with a stale ETag 412, with the current one 200', async () => {
    const etag = (await h.call('GET', `/phones/${M2}/directory`)).headers.get('etag')!;
    const next = good.replace('Bob', 'Rob');
    expect((await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body: { xml: next } })).status).toBe(428);
    expect((await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body: { xml: next }, headers: { 'if-match': '"stale"' } })).status).toBe(412);
    const r = await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body: { xml: next }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect(r.json.file.version).toBe(2);
    expect(r.headers.get('etag')).not.toBe(etag);
    expect((await h.admin.changes({ limit: 5 })).find((c) => c.operation === 'uploads.directory')).toMatchObject({ who: 't-operator', target: M2, new: { version: 2 } });
  });

  test.each([
    ['a duplicated ct', '<directory><item_list><item><ct>1</ct></item><item><ct>1</ct></item></item_list></directory>', 'PP_DIR_CT_DUPLICATE'],
    ['a contact without ct', '<directory><item_list><item><fn>x</fn></item></item_list></directory>', 'PP_DIR_CT_MISSING'],
    ['a ring type out of range', '<directory><item_list><item><ct>1</ct><rt>99</rt></item></item_list></directory>', 'PP_DIR_RT_RANGE'],
    ['XML that does not parse', '<directory><item_list>', undefined],
  ])('a directory with %s is refused 422 as lint refuses it, nothing stored', async (_what, xml, code) => {
    const etag = (await h.call('GET', `/phones/${M2}/directory`)).headers.get('etag')!;
    const r = await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body: { xml }, headers: { 'if-match': etag } });
    expect(r.status).toBe(422);
    expect(r.json.pointer).toBe('/xml');
    if (code) expect(r.json.code).toBe(code);
    else expect(r.json.code).toMatch(/^PP_/);
    expect((await h.call('GET', `/phones/${M2}/directory`)).headers.get('etag')).toBe(etag);
  });

  test('bad bodies: missing xml, wrong type, unknown field, not JSON → 400; read-only → 403', async () => {
    for (const body of [{}, { xml: 5 }, { xml: good, extra: 1 }]) expect((await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, body })).status).toBe(400);
    expect((await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens.operator, raw: '{"xml": ' })).status).toBe(400);
    expect((await h.call('PUT', `/phones/${M2}/directory`, { token: h.tokens['read-only'], body: { xml: good } })).status).toBe(403);
  });
});
