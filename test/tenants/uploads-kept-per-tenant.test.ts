// Issue 14, Tenants ("no request of one tenant reveals — or overwrites — another's uploads"), over
// HTTP and FTP on 127.0.0.1: an UNMANAGED phone (no fleet record, so no tenant of its own) that uploads
// under /acme/ and under /beta/ has two uploads, keyed by MAC, kind and the path with the tenant's
// prefix. Each tenant reads back its own; neither upload, append nor delete under one tenant touches
// the other's. acme's master keeps overrides at its root, beta gets the default master (`overrides`, `logs`).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { makeAccount } from '../../src/core/digest.ts';
import type { Mac } from '../../src/domain.ts';
import { startFtpServer, type FtpServer } from '../../src/transports/ftp/server.ts';
import { startHttpServer, type HttpListener } from '../../src/transports/http.ts';
import type { BootCore } from '../support/boot-core.ts';
import { FakeFleet, startFleetCore } from '../support/fake-fleet.ts';
import { req } from '../support/http-client.ts';
import { connectData, epsvPort, RawClient, readAll } from '../ftp/helpers.ts';
import { makeTree } from '../support/tree.ts';

const U = '0004f2e00011' as Mac;
const L = '0004f2e00012' as Mac;
const master = (extra: string) => `<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"${extra}/>\n`;
const override = (v: string) => `<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.label="${v}"/></PHONE_CONFIG>\n`;

let core: BootCore;
let http: HttpListener;
let url: string;
let ftp: FtpServer;

function as(user: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}` };
}
const get = (path: string, user: string) => req(`${url}${path}`, { headers: as(user) });
const put = (path: string, body: string, user: string) => req(`${url}${path}`, { method: 'PUT', body, headers: as(user) });

/** An FTP session logged in as `user` (HTTP has no DELETE; FTP's DELE is how a phone deletes). */
async function ftpLogin(user: string): Promise<RawClient> {
  const c = await RawClient.connect(ftp.address().port);
  expect((await c.reply()).code).toBe(220);
  await c.login(user, `${user}-pw`);
  return c;
}
/** NLST over EPSV: the names listed. */
async function nlst(c: RawClient, dir: string): Promise<string[]> {
  const epsv = await c.cmd('EPSV');
  expect(epsv.code).toBe(229);
  const data = await connectData(epsvPort(epsv.text));
  const reading = readAll(data);
  expect((await c.cmd(`NLST ${dir}`)).code).toBeLessThan(200);
  const body = (await reading).toString();
  expect((await c.reply()).code).toBe(226);
  return body.split(/\r?\n/).filter(Boolean).map((n) => n.slice(n.lastIndexOf('/') + 1));
}

beforeAll(async () => {
  const root = makeTree({
    'sip.ld': 'firmware image',
    'site.cfg': '<?xml version="1.0" standalone="yes"?>\n<polycomConfig/>\n',
    'logs/.keep': '',
    'acme/000000000000.cfg': master(' LOG_FILE_DIRECTORY="acme-logs"'),
    'acme/acme-logs/.keep': '',
    'beta/overrides/.keep': '',
  });
  core = await startFleetCore(root, new FakeFleet().addTenant('acme', 'beta'), { policy: 'accounts' });
  for (const [user, tenant] of [['acme-site', 'acme'], ['beta-site', 'beta'], ['root-site', undefined]] as const) {
    const a = makeAccount('site', user, `${user}-pw`, core.options.realm);
    if (tenant) a.tenant = tenant;
    await core.store.accounts.put(a);
  }
  http = await startHttpServer({ host: '127.0.0.1', port: 0, service: core.service, log: pino({ level: 'silent' }), headerTimeoutMs: 5000, bodyTimeoutMs: 5000, keepAliveTimeoutMs: 1000 });
  url = `http://127.0.0.1:${http.address().port}`;
  ftp = await startFtpServer({ host: '127.0.0.1', port: 0, service: core.service });
});

afterAll(async () => {
  await http?.close();
  await ftp?.close();
  await core?.close();
});

describe('issue 14 Tenants: an unmanaged phone uploading under two tenants keeps one upload per tenant', () => {
  const acme = `/acme/${U}-phone.cfg`;
  const beta = `/beta/overrides/${U}-phone.cfg`;

  test('each tenant reads back its own override, with its own history; the other tenant’s upload replaced nothing', async () => {
    expect((await put(acme, override('acme 1'), 'acme-site')).status).toBe(201);
    expect((await put(beta, override('beta 1'), 'beta-site')).status).toBe(201);
    expect((await put(acme, override('acme 2'), 'acme-site')).status).toBeLessThan(300);
    expect((await get(acme, 'acme-site')).body.toString()).toBe(override('acme 2'));
    expect((await get(beta, 'beta-site')).body.toString()).toBe(override('beta 1'));
    // Neither is the default tenant's.
    expect((await get(`/${U}-phone.cfg`, 'root-site')).status).toBe(404);
    expect((await get(`/overrides/${U}-phone.cfg`, 'root-site')).status).toBe(404);
    const history = async (path: string) => (await core.store.uploads.history({ mac: U, kind: 'override-phone', path }, 10)).map((f) => f.version);
    expect(await history(`acme/${U}-phone.cfg`)).toEqual([2, 1]);
    expect(await history(`beta/overrides/${U}-phone.cfg`)).toEqual([1]);
    expect((await core.store.uploads.listForPhone(U)).map((f) => f.key.path)).toEqual([`acme/${U}-phone.cfg`, `beta/overrides/${U}-phone.cfg`]);
  });

  test("each tenant's FTP listing shows its own upload; a DELE under /beta/ removes beta's only, acme's is still served", async () => {
    const a = await ftpLogin('acme-site');
    const b = await ftpLogin('beta-site');
    try {
      expect(await nlst(a, '/acme')).toContain(`${U}-phone.cfg`);
      expect(await nlst(b, '/beta/overrides')).toContain(`${U}-phone.cfg`);
      expect((await b.cmd(`DELE ${beta}`)).code).toBe(250);
      expect(await nlst(b, '/beta/overrides')).not.toContain(`${U}-phone.cfg`);
      // Nothing of beta's is left to delete; acme's stays.
      expect((await b.cmd(`DELE ${beta}`)).code).toBe(550);
      expect(await nlst(a, '/acme')).toContain(`${U}-phone.cfg`);
    } finally {
      a.close();
      b.close();
    }
    expect((await get(beta, 'beta-site')).status).toBe(404);
    expect((await get(acme, 'acme-site')).body.toString()).toBe(override('acme 2'));
    expect((await core.store.uploads.history({ mac: U, kind: 'override-phone', path: `acme/${U}-phone.cfg` }, 10)).map((f) => f.version)).toEqual([2, 1]);
  });

  test('logs appended under each tenant roll on separately', async () => {
    for (const [path, user, line] of [[`/acme/acme-logs/${L}-app.log`, 'acme-site', 'acme 1\n'], [`/beta/logs/${L}-app.log`, 'beta-site', 'beta 1\n'], [`/acme/acme-logs/${L}-app.log`, 'acme-site', 'acme 2\n']] as const) {
      expect((await put(path, line, user)).status).toBeLessThan(300);
    }
    expect((await get(`/acme/acme-logs/${L}-app.log`, 'acme-site')).body.toString()).toBe('acme 1\nacme 2\n');
    expect((await get(`/beta/logs/${L}-app.log`, 'beta-site')).body.toString()).toBe('beta 1\n');
  });
});
