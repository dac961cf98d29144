// Issue 14, Tenants and Serving: staging is per tenant (the factory account works under a tenant's
// prefix while that tenant's staging is on, and the phone account it issues belongs to that
// tenant), accounts carry their tenant through the admin service, and `managed/<MAC>.cfg` is never
// taken for a master file — not by the master listings that decide who owns a secret file, not by
// the boot-start detection — even as a plain file of a rendered static tree served without a fleet.
// Real HTTP on 127.0.0.1 over the real core.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { parseConfigFile } from '../../src/config/config-file.ts';
import { TreeFiles } from '../../src/config/tree-source.ts';
import { AdminService } from '../../src/core/admin.ts';
import { createBootService } from '../../src/core/boot-service.ts';
import { MasterListings } from '../../src/core/master-listings.ts';
import type { Mac } from '../../src/domain.ts';
import { isProvError } from '../../src/errors.ts';
import { startHttpServer, type HttpListener } from '../../src/transports/http.ts';
import { startFtpServer } from '../../src/transports/ftp/server.ts';
import { connectData, epsvPort, RawClient, readAll } from '../ftp/helpers.ts';
import type { BootCore } from '../support/boot-core.ts';
import { FakeFleet, startFleetCore } from '../support/fake-fleet.ts';
import { req } from '../support/http-client.ts';
import { makeTree } from '../support/tree.ts';

const FRESH = '0004f2c00001';
const cfg = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<polycomConfig><site site.label="${v}"/></polycomConfig>\n`;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const updater = (mac: string) => ({ 'user-agent': `FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614 (SN:${mac}) Type/Updater` });

async function listen(core: BootCore): Promise<{ http: HttpListener; url: string }> {
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, service: core.service, log: pino({ level: 'silent' }), headerTimeoutMs: 5000, bodyTimeoutMs: 5000, keepAliveTimeoutMs: 1000 });
  return { http, url: `http://127.0.0.1:${http.address().port}` };
}

describe('issue 14 Tenants: staging per tenant, accounts with a tenant', () => {
  let core: BootCore;
  let http: HttpListener;
  let url: string;
  let admin: AdminService;

  beforeAll(async () => {
    const root = makeTree({ 'site.cfg': cfg('shared'), 'acme/site.cfg': cfg('acme') });
    core = await startFleetCore(root, new FakeFleet().addTenant('acme', 'beta'), { policy: 'accounts', staging: false });
    admin = new AdminService({ store: core.store, options: core.options, who: 'test' });
    ({ http, url } = await listen(core));
  });
  afterAll(async () => {
    await http?.close();
    await core?.close();
  });

  test("staging on for acme only: PlcmSpIp works under /acme/ and nowhere else; the issued account is acme's", async () => {
    expect((await admin.staging.set(true, 'acme')).on).toBe(true);
    expect((await admin.staging.status('acme')).on).toBe(true);
    expect((await admin.staging.status()).on).toBe(false);
    expect((await admin.staging.status('beta')).on).toBe(false);
    expect((await admin.changes({ limit: 5 })).some((c) => c.operation === 'staging.set' && c.target === 'staging.acme')).toBe(true);

    const factory = basic('PlcmSpIp', 'PlcmSpIp');
    expect((await req(`${url}/site.cfg`, { headers: factory })).status).toBe(401);
    expect((await req(`${url}/beta/site.cfg`, { headers: factory })).status).toBe(401);
    expect((await req(`${url}/acme/site.cfg`, { headers: factory })).body.toString()).toBe(cfg('acme'));

    // acme's tree has no master: the default master puts overrides in overrides/.
    const enrol = await req(`${url}/acme/overrides/${FRESH}-phone.cfg`, { headers: factory });
    expect(enrol.status).toBe(200);
    const parsed = parseConfigFile(enrol.body, 'enrol.cfg');
    const param = (n: string) => (parsed.kind === 'xml' ? parsed.params.find((p) => p.name === n)?.value : undefined);
    const user = param('device.prov.user')!;
    const password = param('device.prov.password')!;
    expect(user).toBe(`phone-${FRESH}`);
    expect((await core.store.accounts.get(user))?.tenant).toBe('acme');
    // The issued account works under acme's prefix and is refused at the root and under beta.
    expect((await req(`${url}/acme/managed/${FRESH}.cfg`, { headers: basic(user, password) })).status).toBe(200);
    expect((await req(`${url}/managed/${FRESH}.cfg`, { headers: basic(user, password) })).status).toBe(401);
    expect((await req(`${url}/beta/site.cfg`, { headers: basic(user, password) })).status).toBe(401);
  });

  test("FTP: the factory account logs in while acme's staging is on (the login names no tenant), then reads only under /acme/", async () => {
    // A node started after `staging on --tenant acme`: its first request is this login.
    const node = await createBootService({ options: core.options, store: core.store, log: pino({ level: 'silent' }), fleet: new FakeFleet().addTenant('acme', 'beta') });
    const ftp = await startFtpServer({ host: '127.0.0.1', port: 0, service: node });
    const c = await RawClient.connect(ftp.address().port);
    try {
      expect((await c.reply()).code).toBe(220);
      await c.login('PlcmSpIp', 'PlcmSpIp');
      const retr = async (path: string) => {
        const data = await connectData(epsvPort((await c.cmd('EPSV')).text));
        const reading = readAll(data);
        reading.catch(() => undefined);
        const first = await c.cmd(`RETR ${path}`);
        if (first.code >= 400) {
          data.destroy();
          return { code: first.code, body: '' };
        }
        const body = (await reading).toString();
        return { code: (await c.reply()).code, body };
      };
      expect(await retr('/acme/site.cfg')).toEqual({ code: 226, body: cfg('acme') });
      expect((await retr('/site.cfg')).code).toBe(530);
      // The managed folder is there to enter, as a phone whose CONFIG_FILES names managed/… may.
      expect((await c.cmd('CWD /acme/managed')).code).toBe(250);
      expect((await c.cmd(`SIZE 0004f2c00002.cfg`)).code).toBe(213);
      // The phone enrolled above uses its own account now: the factory account no longer reaches its file.
      expect((await c.cmd(`SIZE ${FRESH}.cfg`)).code).toBe(550);
    } finally {
      c.close();
      await ftp.close();
      await node.close();
    }
  });

  test('accounts add takes a tenant: kept on the account, shown in its view, refused when not a tenant name', async () => {
    const r = await admin.accounts.add('acme-desk', 'site', 'desk-pw', undefined, 'acme');
    expect(r.status).toBe('added');
    expect((await core.store.accounts.get('acme-desk'))?.tenant).toBe('acme');
    const changes = await admin.changes({ limit: 5 });
    expect(changes.find((c) => c.operation === 'accounts.add' && c.target === 'acme-desk')?.new).toMatchObject({ tenant: 'acme' });
    expect((await req(`${url}/acme/site.cfg`, { headers: basic('acme-desk', 'desk-pw') })).status).toBe(200);
    expect((await req(`${url}/site.cfg`, { headers: basic('acme-desk', 'desk-pw') })).status).toBe(401);
    // The default tenant is no tenant on the account.
    await admin.accounts.add('root-desk', 'site', 'pw', undefined, 'default');
    expect((await core.store.accounts.get('root-desk'))?.tenant).toBeUndefined();
    // A password change keeps the tenant.
    await admin.accounts.passwd('acme-desk', 'new-pw');
    expect((await core.store.accounts.get('acme-desk'))?.tenant).toBe('acme');
    const bad = await admin.accounts.add('x', 'site', 'pw', undefined, 'Not A Tenant').catch((e: unknown) => e);
    expect(isProvError(bad) && bad.code).toBe('PP_USAGE');
  });
});

describe('issue 14 Serving: managed/<MAC>.cfg is not a master file', () => {
  const MAC = '0004f2000001';
  // A rendered static tree (`polyprov render --out`) holds managed/<MAC>.cfg as a plain file; here
  // it is written to look like a master listing a secret file beside it.
  const files = {
    '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, site.cfg"/>\n',
    'site.cfg': cfg('shared'),
    [`managed/${MAC}.cfg`]: '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="bob.cfg"/>\n',
    'managed/bob.cfg': '<polycomConfig><reg reg.1.auth.password="bob-secret"/></polycomConfig>\n',
  };

  test('the master listings do not take it for a per-phone master (bob.cfg has no owner by it)', async () => {
    const listings = new MasterListings(new TreeFiles(makeTree(files)));
    expect(await listings.readersOf('managed/bob.cfg')).toEqual({ shared: false, phones: [] });
  });

  test('reading it (without a fleet, a plain tree file) is no boot start and sets no master; the audit has its line', async () => {
    const core = await startFleetCore(makeTree(files), undefined, { policy: 'open' });
    const { http, url } = await listen(core);
    try {
      const r = await req(`${url}/managed/${MAC}.cfg`, { headers: updater(MAC) });
      expect(r.status).toBe(200);
      await core.core.audit.flush();
      const phone = await core.store.phones.get(MAC as Mac);
      expect(phone).toBeDefined();
      expect(phone?.lastBoot).toBeUndefined();
      expect(phone?.master).toBeUndefined();
      expect((await core.store.audit.query({ mac: MAC as Mac })).map((e) => e.path)).toContain(`managed/${MAC}.cfg`);
      // A real master read is one, as before.
      expect((await req(`${url}/000000000000.cfg`, { headers: updater(MAC) })).status).toBe(200);
      await core.core.audit.flush();
      expect((await core.store.phones.get(MAC as Mac))?.lastBoot).toBeDefined();
    } finally {
      await http.close();
      await core.close();
    }
  });
});
