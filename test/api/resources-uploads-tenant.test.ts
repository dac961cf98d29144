// Issue 14 Tenants ("No request, listing, log line or report of one tenant reveals another's …
// uploads") and issue 15 Who may do what (a tenant-bound token sees only its tenant): an
// unmanaged phone that booted under /acme/ and /beta/ has uploads under both prefixes; the acme
// token lists, gets, diffs, restores and clears only acme's (beta's stays as it was), its logs
// and timeline show only acme's; a token bound to the default tenant sees only the unprefixed
// paths; an unbound token sees them all.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac, UploadKey } from '../../src/domain.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

const M = '0004f2000b01' as Mac;
const D = '0004f2000b02' as Mac;
const ACME_OLD = 'acme-old-label';
const ACME_NEW = 'acme-new-label';
const BETA = 'beta-label-never-for-acme';
const BETA_LOG = 'beta-log-line-never-for-acme';
const BETA_DIR = 'beta-contact-never-for-acme';

let h: ApiHarness;
let beta: string;
let dflt: string;
const t0 = new Date(Date.now() - 3600_000);
const at = (s: number) => new Date(t0.getTime() + s * 1000);

async function upload(key: UploadKey, text: string): Promise<void> {
  const sink = await h.store.uploads.begin(key, { mode: 'replace', address: '10.0.0.5', maxBytes: 1 << 20, keepVersions: 10 });
  await sink.write(Buffer.from(text));
  await sink.commit();
}
const override = (label: string) => `<PHONE_CONFIG><OVERRIDES reg.1.label="${label}"/></PHONE_CONFIG>`;
const directory = (name: string) => `<directory><item_list><item><fn>${name}</fn><ct>1001</ct></item></item_list></directory>`;
const current = async (path: string, kind: UploadKey['kind'], mac = M) => (await (await h.store.uploads.current({ mac, kind, path }))?.read())?.toString('utf8');
const paths = (items: Array<{ path: string }>) => items.map((i) => i.path).sort();

beforeAll(async () => {
  h = await startApi();
  await h.admin.fleet.apply([{ op: 'tenant.add', tenant: 'acme' }, { op: 'tenant.add', tenant: 'beta' }]);
  beta = (await h.admin.tokens.add('t-beta', 'operator', 'beta')).token;
  dflt = (await h.admin.tokens.add('t-default', 'operator', 'default')).token;
  const s = h.store;
  // M: unmanaged, last read acme's master (so acme's phone), but booted under /beta/ before.
  await s.phones.recordSighting({ mac: M, at: t0, source: 'http', address: '10.0.0.5', model: 'VVX410', stage: 'application', bootStart: true, master: 'beta/000000000000.cfg' });
  await s.phones.recordSighting({ mac: M, at: at(100), source: 'http', address: '10.0.0.5', model: 'VVX410', stage: 'application', bootStart: true, master: 'acme/000000000000.cfg' });
  await s.audit.append([
    { at: at(1), mac: M, address: '10.0.0.5', transport: 'http', op: 'read', path: 'beta/000000000000.cfg', status: '200', bytes: 300, durationMs: 1 },
    { at: at(101), mac: M, address: '10.0.0.5', transport: 'http', op: 'read', path: 'acme/000000000000.cfg', status: '200', bytes: 300, durationMs: 1 },
    { at: at(102), mac: M, address: '10.0.0.5', transport: 'http', op: 'read', path: 'beta/site.cfg', status: '404', bytes: 0, durationMs: 1 },
  ]);
  await upload({ mac: M, kind: 'override-phone', path: `acme/overrides/${M}-phone.cfg` }, override(ACME_OLD));
  await upload({ mac: M, kind: 'override-phone', path: `acme/overrides/${M}-phone.cfg` }, override(ACME_NEW));
  await upload({ mac: M, kind: 'log-app', path: `acme/logs/${M}-app.log` }, 'acme log line\n');
  // beta's uploads are stored last: the newest of each kind, what a pick across paths would take.
  await new Promise((r) => setTimeout(r, 20));
  await upload({ mac: M, kind: 'override-phone', path: `beta/overrides/${M}-phone.cfg` }, override(BETA));
  await upload({ mac: M, kind: 'log-app', path: `beta/logs/${M}-app.log` }, `${BETA_LOG}\n`);
  await upload({ mac: M, kind: 'directory', path: `beta/contacts/${M}-directory.xml` }, directory(BETA_DIR));
  // D: the default tenant's phone, with an upload under acme/ too.
  await s.phones.recordSighting({ mac: D, at: t0, source: 'http', address: '10.0.0.6', model: 'VVX410', master: '000000000000.cfg' });
  await upload({ mac: D, kind: 'override-phone', path: `overrides/${D}-phone.cfg` }, override('default-label'));
  await upload({ mac: D, kind: 'override-phone', path: `acme/overrides/${D}-phone.cfg` }, override('acme-of-d'));
});
afterAll(async () => {
  await h?.close();
});

describe("issue 14 Tenants / issue 15 Who may do what: a tenant-bound token sees only its tenant's uploads", () => {
  test('an unbound admin token lists the uploads under both prefixes', async () => {
    const r = await h.call('GET', `/phones/${M}/uploads`);
    expect(r.status).toBe(200);
    expect(paths(r.json.items)).toEqual([`acme/logs/${M}-app.log`, `acme/overrides/${M}-phone.cfg`, `beta/contacts/${M}-directory.xml`, `beta/logs/${M}-app.log`, `beta/overrides/${M}-phone.cfg`]);
    // Unbound: the kind stored last, as before (beta's).
    expect((await h.call('GET', `/phones/${M}/uploads/override-phone`)).json.path).toBe(`beta/overrides/${M}-phone.cfg`);
  });

  test("the acme token lists, gets and diffs only acme's uploads; the beta token does not see the acme phone", async () => {
    const r = await h.call('GET', `/phones/${M}/uploads`, { token: h.tokens.acme });
    expect(r.status).toBe(200);
    expect(paths(r.json.items)).toEqual([`acme/logs/${M}-app.log`, `acme/overrides/${M}-phone.cfg`]);
    const g = await h.call('GET', `/phones/${M}/uploads/override-phone`, { token: h.tokens.acme });
    expect(g.status).toBe(200);
    expect(g.json.path).toBe(`acme/overrides/${M}-phone.cfg`);
    expect(g.json.params).toEqual([{ name: 'reg.1.label', value: ACME_NEW, line: expect.any(Number) }]);
    // beta's version numbers are not acme's: version 2 exists only under acme's path.
    expect((await h.call('GET', `/phones/${M}/uploads/override-phone?version=2`, { token: h.tokens.acme })).json.path).toBe(`acme/overrides/${M}-phone.cfg`);
    expect((await h.call('GET', `/phones/${M}/uploads/directory`, { token: h.tokens.acme })).status).toBe(404);
    expect((await h.call('GET', `/phones/${M}/directory`, { token: h.tokens.acme })).status).toBe(404);
    const d = await h.call('GET', `/phones/${M}/uploads/diff`, { token: h.tokens.acme });
    expect(d.status).toBe(200);
    expect(d.json.items.map((i: { phone: string }) => i.phone)).toEqual([ACME_NEW]);
    expect((await h.call('GET', `/phones/${M}/uploads`, { token: beta })).status).toBe(404);
  });

  test("the acme token's logs and timeline show only acme's log and requests", async () => {
    const l = await h.call('GET', `/phones/${M}/logs`, { token: h.tokens.acme });
    expect(l.status).toBe(200);
    expect(l.json.logs.map((x: { path: string }) => x.path)).toEqual([`acme/logs/${M}-app.log`]);
    const t = await h.call('GET', `/phones/${M}/timeline`, { token: h.tokens.acme });
    expect(t.status).toBe(200);
    expect(t.json.boots.map((b: { requests: Array<{ path: string }> }) => b.requests.map((e) => e.path))).toEqual([['acme/000000000000.cfg']]);
    const all = await h.call('GET', `/phones/${M}/timeline`);
    expect(all.json.boots.map((b: { requests: Array<{ path: string }> }) => b.requests.map((e) => e.path).sort())).toEqual([['acme/000000000000.cfg', 'beta/site.cfg'], ['beta/000000000000.cfg']]);
    expect((await h.call('GET', `/phones/${M}/logs`)).json.logs).toHaveLength(2);
  });

  test("the acme token restores acme's version 1 under acme's path; beta's upload stays as it was", async () => {
    const r = await h.call('POST', `/phones/${M}/uploads/override-phone/restore`, { token: h.tokens.acme, body: { version: 1 } });
    expect(r.status).toBe(200);
    expect(r.json.path).toBe(`acme/overrides/${M}-phone.cfg`);
    expect(await current(`acme/overrides/${M}-phone.cfg`, 'override-phone')).toContain(ACME_OLD);
    expect(await current(`beta/overrides/${M}-phone.cfg`, 'override-phone')).toContain(BETA);
    // beta's upload has one version: version 3 (acme's, after the restore) is not found through beta's path either way.
    expect((await h.call('POST', `/phones/${M}/uploads/override-phone/restore`, { token: h.tokens.acme, body: { version: 9 } })).status).toBe(404);
  });

  test("the acme token's Reset Local Config empties acme's override only, and removes no directory of beta's", async () => {
    const r = await h.call('DELETE', `/phones/${M}/uploads?directory=true`, { token: h.tokens.acme });
    expect(r.status).toBe(200);
    expect(r.json.cleared).toEqual([`acme/overrides/${M}-phone.cfg`, `acme/overrides/${M}-web.cfg`]);
    expect(await current(`acme/overrides/${M}-phone.cfg`, 'override-phone')).not.toContain('reg.1.label');
    expect(await current(`beta/overrides/${M}-phone.cfg`, 'override-phone')).toContain(BETA);
    expect(await current(`beta/contacts/${M}-directory.xml`, 'directory')).toContain(BETA_DIR);
  });

  test("the acme token writes a directory under acme's prefix, not over beta's", async () => {
    const r = await h.call('PUT', `/phones/${M}/directory`, { token: h.tokens.acme, body: { xml: directory('acme-contact') } });
    expect(r.status).toBe(201);
    expect(r.json.path).toBe(`acme/contacts/${M}-directory.xml`);
    expect(await current(`beta/contacts/${M}-directory.xml`, 'directory')).toContain(BETA_DIR);
    expect((await h.call('GET', `/phones/${M}/directory`, { token: h.tokens.acme })).json.path).toBe(`acme/contacts/${M}-directory.xml`);
  });

  test("a token bound to the default tenant sees only the paths under no tenant's prefix", async () => {
    const r = await h.call('GET', `/phones/${D}/uploads`, { token: dflt });
    expect(r.status).toBe(200);
    expect(paths(r.json.items)).toEqual([`overrides/${D}-phone.cfg`]);
    expect((await h.call('GET', `/phones/${D}/uploads/override-phone`, { token: dflt })).json.path).toBe(`overrides/${D}-phone.cfg`);
    expect(paths((await h.call('GET', `/phones/${D}/uploads`)).json.items)).toEqual([`acme/overrides/${D}-phone.cfg`, `overrides/${D}-phone.cfg`]);
  });

  test("no response to the acme token carries beta's override, log or directory", async () => {
    // Every body read with the acme token above: re-read each route once and scan it.
    for (const path of [`/phones/${M}/uploads`, `/phones/${M}/uploads/override-phone`, `/phones/${M}/uploads/diff`, `/phones/${M}/logs`, `/phones/${M}/timeline`, `/phones/${M}/directory`]) {
      const r = await h.call('GET', path, { token: h.tokens.acme });
      for (const s of [BETA, BETA_LOG, BETA_DIR, 'beta/']) expect(r.text, path).not.toContain(s);
    }
  });
});
