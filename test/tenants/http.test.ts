// Issue 14, Serving and Tenants, over HTTP on 127.0.0.1: the real core with a fleet (a small fake
// ManagedFiles, test/support/fake-fleet.ts) behind the real HTTP listener. Each tenant is served
// under `/<tenant>/` from its folder over the shared root (per-file overlay); `managed/<MAC>.cfg`
// comes from the fleet (an empty valid file for a phone not managed, ETag and 304 like tree
// files, that phone's file under the per-phone account rule); a MAC of another tenant is a plain
// 404; another tenant's account is refused; a tenant without a master gets the default master;
// uploads are kept per tenant. The tree has no master at its root: a master there would be every
// tenant's too (the overlay), so the default master is rendered for beta and the root.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { parseConfigFile } from '../../src/config/config-file.ts';
import { makeAccount } from '../../src/core/digest.ts';
import type { Mac } from '../../src/domain.ts';
import { renderDefaultMaster, renderEmpty } from '../../src/fleet/render.ts';
import { startHttpServer, type HttpListener } from '../../src/transports/http.ts';
import type { BootCore } from '../support/boot-core.ts';
import { FakeFleet, startFleetCore } from '../support/fake-fleet.ts';
import { req } from '../support/http-client.ts';
import { makeTree } from '../support/tree.ts';

const A1 = '0004f2a00001';
const A2 = '0004f2a00002';
const B1 = '0004f2b00001';
const D1 = '0004f2d00001';
const U = '0004f2e00001';
const PASSWORD = `p"<&'w`;
const master = (extra: string) => `<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, site.cfg"${extra}/>\n`;
const cfg = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<polycomConfig><site site.label="${v}"/></polycomConfig>\n`;
const override = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.label="${v}"/></PHONE_CONFIG>\n`;

let core: BootCore;
let http: HttpListener;
let url: string;
let fleet: FakeFleet;

const ua = (mac: string) => `FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614 (SN:${mac}) Type/Application`;
function as(user: string, password = `${user}-pw`, more: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, ...more };
}
const get = (path: string, headers: Record<string, string> = {}) => req(`${url}${path}`, { headers });
const put = (path: string, body: string, headers: Record<string, string>) => req(`${url}${path}`, { method: 'PUT', body, headers });

beforeAll(async () => {
  const root = makeTree({
    'site.cfg': cfg('shared'),
    'sip.ld': 'firmware image',
    'logs/.keep': '',
    [`${B1}-lines.cfg`]: cfg('lines of a beta phone, at the shared root'),
    'acme/000000000000.cfg': master(' LOG_FILE_DIRECTORY="acme-logs"'),
    'acme/site.cfg': cfg('acme'),
    'acme/only-acme.cfg': cfg('acme only'),
    'acme/acme-logs/.keep': '',
    'beta/beta-only.cfg': cfg('beta only'),
  });
  fleet = new FakeFleet().addTenant('acme', 'beta');
  fleet.setPhone(A1, 'acme', { 'reg.1.address': 'a1@acme.example', 'reg.1.auth.password': PASSWORD });
  fleet.setPhone(A2, 'acme', { 'reg.1.address': 'a2@acme.example' });
  fleet.setPhone(B1, 'beta', { 'reg.1.address': 'b1@beta.example' });
  fleet.setPhone(D1, 'default', { 'reg.1.address': 'd1@example.com' });
  core = await startFleetCore(root, fleet, { policy: 'accounts' });
  const realm = core.options.realm;
  const account = (kind: 'site' | 'phone', user: string, tenant?: string, mac?: string) => {
    const a = makeAccount(kind, user, `${user}-pw`, realm, mac as Mac | undefined);
    if (tenant) a.tenant = tenant;
    return core.store.accounts.put(a);
  };
  await account('site', 'acme-site', 'acme');
  await account('site', 'beta-site', 'beta');
  await account('site', 'root-site');
  await account('phone', 'phone-a1', 'acme', A1);
  await account('phone', 'phone-a2', 'acme', A2);
  http = await startHttpServer({ host: '127.0.0.1', port: 0, service: core.service, log: pino({ level: 'silent' }), headerTimeoutMs: 5000, bodyTimeoutMs: 5000, keepAliveTimeoutMs: 1000 });
  url = `http://127.0.0.1:${http.address().port}`;
});

afterAll(async () => {
  await http?.close();
  await core?.close();
});

describe('issue 14 Tenants: the per-file overlay under /<tenant>/', () => {
  test("a tenant's own file wins, a shared file comes from the root, another tenant's folder is never reached", async () => {
    expect((await get('/acme/site.cfg', as('acme-site'))).body.toString()).toBe(cfg('acme'));
    expect((await get('/acme/sip.ld', as('acme-site'))).body.toString()).toBe('firmware image');
    expect((await get('/acme/only-acme.cfg', as('acme-site'))).status).toBe(200);
    expect((await get('/site.cfg', as('root-site'))).body.toString()).toBe(cfg('shared'));
    expect((await get('/beta/site.cfg', as('beta-site'))).body.toString()).toBe(cfg('shared'));
    // Another tenant's file is not in this tenant's view, through its prefix or the default tenant's.
    expect((await get('/beta/only-acme.cfg', as('beta-site'))).status).toBe(404);
    expect((await get('/only-acme.cfg', as('root-site'))).status).toBe(404);
    expect((await get('/acme/beta/beta-only.cfg', as('acme-site'))).status).toBe(404);
    expect((await get('/beta/beta-only.cfg', as('beta-site'))).status).toBe(200);
  });

  test("an account of tenant acme is refused under /beta/ and at the root (401, as a wrong password); a default account under /acme/ too", async () => {
    const refused = await get('/beta/beta-only.cfg', as('acme-site'));
    expect(refused.status).toBe(401);
    expect(refused.challenges.length).toBeGreaterThan(0);
    expect((await get('/site.cfg', as('acme-site'))).status).toBe(401);
    expect((await get('/acme/site.cfg', as('root-site'))).status).toBe(401);
    expect((await get('/beta/managed/0004f2e00009.cfg', as('phone-a1'))).status).toBe(401);
    await core.core.audit.flush();
    const events = await core.store.audit.query({ limit: 50 });
    const ev = events.find((e) => e.path === 'beta/beta-only.cfg' && e.code !== undefined);
    expect(ev?.code).toBe('PP_AUTH_FAILED');
  });
});

describe('issue 14 Serving: managed/<MAC>.cfg from the fleet', () => {
  test('a phone not managed gets an empty valid file, 200, never a 404 — under a tenant and at the root', async () => {
    const r = await get(`/acme/managed/${U}.cfg`, as('acme-site'));
    expect(r.status).toBe(200);
    expect(r.body.equals(renderEmpty())).toBe(true);
    const parsed = parseConfigFile(r.body, 'managed.cfg');
    expect(parsed.kind).toBe('xml');
    expect((await get(`/managed/${U}.cfg`, as('root-site'))).status).toBe(200);
  });

  test("a managed phone's file carries its settings, XML metacharacters intact; ETag and If-None-Match → 304", async () => {
    const r = await get(`/acme/managed/${A1}.cfg`, as('phone-a1'));
    expect(r.status).toBe(200);
    const parsed = parseConfigFile(r.body, 'managed.cfg');
    expect(parsed.kind === 'xml' && parsed.params.find((p) => p.name === 'reg.1.auth.password')?.value).toBe(PASSWORD);
    expect(r.headers.etag).toBe(fleet.managedFile(A1 as Mac).etag);
    const again = await get(`/acme/managed/${A1}.cfg`, as('phone-a1', undefined, { 'if-none-match': r.headers.etag! }));
    expect(again.status).toBe(304);
    // A change of the phone's settings is a new version: new ETag, the conditional read gets the new bytes.
    fleet.setPhone(A1, 'acme', { 'reg.1.address': 'a1@acme.example', 'reg.1.auth.password': `${PASSWORD}2` });
    const changed = await get(`/acme/managed/${A1}.cfg`, as('phone-a1', undefined, { 'if-none-match': r.headers.etag! }));
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(r.headers.etag);
    fleet.setPhone(A1, 'acme', { 'reg.1.address': 'a1@acme.example', 'reg.1.auth.password': PASSWORD });
  });

  test("it is that phone's file: another phone's account and (the phone bound) the site account get 403", async () => {
    expect((await get(`/acme/managed/${A1}.cfg`, as('phone-a2'))).status).toBe(403);
    // phone-a1 has used its account (above), so only it reaches A1's files.
    expect((await get(`/acme/managed/${A1}.cfg`, as('acme-site'))).status).toBe(403);
    expect((await get(`/acme/managed/${A1}.cfg`, as('phone-a1'))).status).toBe(200);
  });

  test('it is not a master file: no boot start, no master in the inventory; the audit has its line with the prefix', async () => {
    const r = await get(`/acme/managed/${A2}.cfg`, as('phone-a2', undefined, { 'user-agent': ua(A2).replace('Application', 'Updater') }));
    expect(r.status).toBe(200);
    await core.core.audit.flush();
    const phone = await core.store.phones.get(A2 as Mac);
    expect(phone?.master).toBeUndefined();
    expect(phone?.lastBoot).toBeUndefined();
    const events = await core.store.audit.query({ mac: A2 as Mac, limit: 20 });
    expect(events.some((e) => e.path === `acme/managed/${A2}.cfg` && e.user === 'phone-a2')).toBe(true);
    // The tenant's real master is one, and the inventory keeps it with its prefix.
    expect((await get('/acme/000000000000.cfg', as('phone-a2', undefined, { 'user-agent': ua(A2).replace('Application', 'Updater') }))).status).toBe(200);
    await core.core.audit.flush();
    const after = await core.store.phones.get(A2 as Mac);
    expect(after?.master).toBe('acme/000000000000.cfg');
    expect(after?.lastBoot).toBeDefined();
  });
});

describe('issue 14 Tenants: a MAC of another tenant is a plain 404', () => {
  test("beta's phone under /acme/: its managed file, its per-phone tree file, its uploads", async () => {
    const notFound = [
      await get(`/acme/managed/${B1}.cfg`, as('acme-site')),
      await get(`/acme/${B1}-lines.cfg`, as('acme-site')),
      await get(`/acme/${B1}.cfg`, as('acme-site')),
      await put(`/acme/acme-logs/${B1}-app.log`, 'booted\n', as('acme-site')),
      await put(`/acme/${B1}-phone.cfg`, override('x'), as('acme-site')),
    ];
    expect(notFound.map((r) => r.status)).toEqual([404, 404, 404, 404, 404]);
    expect(await core.store.uploads.listForPhone(B1 as Mac)).toEqual([]);
    // At the root too, where beta is not the default tenant; and a default phone under /acme/.
    expect((await get(`/managed/${B1}.cfg`, as('root-site'))).status).toBe(404);
    expect((await get(`/${B1}-lines.cfg`, as('root-site'))).status).toBe(404);
    expect((await get(`/acme/managed/${D1}.cfg`, as('acme-site'))).status).toBe(404);
    // Its own tenant serves them.
    expect((await get(`/beta/managed/${B1}.cfg`, as('beta-site'))).status).toBe(200);
    expect((await get(`/beta/${B1}-lines.cfg`, as('beta-site'))).status).toBe(200);
    expect((await get(`/managed/${D1}.cfg`, as('root-site'))).status).toBe(200);
  });

  test('an anonymous request is asked for an account first (401), so a 404 tells nothing to whoever has none', async () => {
    expect((await get(`/acme/managed/${B1}.cfg`)).status).toBe(401);
    expect((await get(`/acme/managed/${U}.cfg`)).status).toBe(401);
  });
});

describe('issue 14 Serving: the default master where a tenant has none', () => {
  test("beta and the root have no master: 000000000000.cfg and <MAC>.cfg are the rendered default; acme's own is served", async () => {
    const m = await get('/beta/000000000000.cfg', as('beta-site'));
    expect(m.status).toBe(200);
    expect(m.body.equals(renderDefaultMaster())).toBe(true);
    expect((await get(`/beta/${B1}.cfg`, as('beta-site'))).body.equals(renderDefaultMaster())).toBe(true);
    expect((await get('/acme/000000000000.cfg', as('acme-site'))).body.toString()).toBe(master(' LOG_FILE_DIRECTORY="acme-logs"'));
    expect((await get(`/acme/${U}.cfg`, as('acme-site'))).status).toBe(404);
    expect((await get('/000000000000.cfg', as('root-site'))).body.equals(renderDefaultMaster())).toBe(true);
  });

  test("a phone's uploads under beta follow the default master's directories, with beta's prefix in the key", async () => {
    const r = await put(`/beta/logs/${B1}-app.log`, 'booted\n', as('beta-site', undefined, { 'user-agent': ua(B1) }));
    expect(r.status).toBeLessThan(300);
    expect((await core.stored({ mac: B1 as Mac, kind: 'log-app', path: `beta/logs/${B1}-app.log` }))?.toString()).toBe('booted\n');
    // The default master names `logs`: the tenant's root is not where logs go.
    expect((await put(`/beta/${B1}-app.log`, 'booted\n', as('beta-site'))).status).toBe(403);
  });
});

describe('issue 14 Tenants: uploads are per tenant', () => {
  test("a phone's uploads under /acme/ go where acme's own master says (acme-logs), keyed with the prefix", async () => {
    expect((await put(`/acme/acme-logs/${A2}-app.log`, 'a2 booted\n', as('phone-a2'))).status).toBeLessThan(300);
    expect((await core.stored({ mac: A2 as Mac, kind: 'log-app', path: `acme/acme-logs/${A2}-app.log` }))?.toString()).toBe('a2 booted\n');
    expect((await core.store.uploads.listForPhone(A2 as Mac)).filter((f) => f.key.kind === 'log-app').map((f) => f.key.path)).toEqual([`acme/acme-logs/${A2}-app.log`]);
    // Not the shared root's logs/ (the default master's directory), which acme's master does not name.
    expect((await put(`/acme/logs/${A2}-app.log`, 'x\n', as('phone-a2'))).status).toBe(403);
  });

  // The store keeps uploads per MAC, kind and path, and the path carries the tenant's prefix: the
  // same unmanaged MAC under two tenants has two uploads, each served only under its own tenant.
  test('the same unmanaged MAC under /acme/ and /beta/ never sees the other tenant’s override, and each keeps its own', async () => {
    expect((await put(`/acme/${U}-phone.cfg`, override('acme'), as('acme-site'))).status).toBe(201);
    expect((await get(`/acme/${U}-phone.cfg`, as('acme-site'))).body.toString()).toBe(override('acme'));
    expect((await core.store.uploads.listForPhone(U as Mac)).filter((f) => f.key.kind === 'override-phone').map((f) => f.key.path)).toEqual([`acme/${U}-phone.cfg`]);
    expect((await get(`/beta/overrides/${U}-phone.cfg`, as('beta-site'))).status).toBe(404);
    expect((await put(`/beta/overrides/${U}-phone.cfg`, override('beta'), as('beta-site'))).status).toBeLessThan(300);
    expect((await get(`/beta/overrides/${U}-phone.cfg`, as('beta-site'))).body.toString()).toBe(override('beta'));
    expect((await get(`/acme/${U}-phone.cfg`, as('acme-site'))).body.toString()).toBe(override('acme'));
    expect((await get(`/${U}-phone.cfg`, as('root-site'))).status).toBe(404);
  });

  test("a log appended under /beta/ never carries what the same MAC logged under /acme/", async () => {
    expect((await put(`/acme/acme-logs/${U}-app.log`, 'acme secret line\n', as('acme-site'))).status).toBeLessThan(300);
    expect((await put(`/beta/logs/${U}-app.log`, 'beta line\n', as('beta-site'))).status).toBeLessThan(300);
    const beta = await get(`/beta/logs/${U}-app.log`, as('beta-site'));
    expect(beta.body.toString()).toBe('beta line\n');
    expect((await put(`/beta/logs/${U}-app.log`, 'beta again\n', as('beta-site'))).status).toBeLessThan(300);
    expect((await get(`/beta/logs/${U}-app.log`, as('beta-site'))).body.toString()).toBe('beta line\nbeta again\n');
  });
});
