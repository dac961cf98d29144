// Issue 16, Several nodes, one PostgreSQL: "A node that loses the database keeps serving tree
// files, images and what its accounts cache holds, answers 503 with Retry-After for the rest
// (uploads, anything it cannot prove current), reconnects by itself, and never exits" — and a node
// started while the database is down starts (issue 16; before, serve exited 3 reading the digest
// secret). A private cluster (initdb as user postgres in a temp directory, on a free loopback port,
// never the machine's shared cluster) is stopped and started under two nodes: A, warmed before the
// outage, and B, started during it. Skipped, with one line naming the package, without initdb/pg_ctl.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openAdmin } from '../../src/core/open-core.ts';
import type { Mac } from '../../src/domain.ts';
import { loadServerOptions } from '../../src/options.ts';
import type { ServeChild } from '../phone/serve-child.ts';
import { basic, cli, http, makeSite, sleep, startNode, within, type Site } from './nodes-support.ts';
import { canRunPrivateCluster, privateCluster, type PrivateCluster } from '../support/private-cluster.ts';

const HAVE_CLUSTER = canRunPrivateCluster();
const MAC = '0004f2d00d01' as Mac;
const SITE = basic('site', 'site-pass');

describe.skipIf(!HAVE_CLUSTER)('issue 16, Several nodes: losing the database', () => {
  let cluster: PrivateCluster | undefined;
  let site: Site;
  let a: ServeChild | undefined;
  let b: ServeChild | undefined;

  beforeAll(async () => {
    cluster = await privateCluster();
    site = makeSite({ storeUrl: cluster.url });
    await cli(site, 0, ['accounts', 'add', 'site', '--kind', 'site', '--password-stdin'], 'site-pass\n');
    await cli(site, 0, ['fleet', 'add', MAC, '--create']);
    await cli(site, 0, ['settings', 'set', `phone:${MAC}`, 'reg.1.address=1001']);
    a = await startNode(site, 1);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await site?.cleanup();
    await cluster?.destroy();
  });

  test('A keeps serving tree files, images, cached accounts and managed files, 503 + Retry-After for the rest; B starts without the database; both recover by themselves', async () => {
    const A = a!.ports.http!;
    const override = `/overrides/${MAC}-phone.cfg`;
    const body = '<PHONE_CONFIG><OVERRIDES up.note="before"/></PHONE_CONFIG>';
    // Warm A: the site account, the managed file, an upload.
    expect((await http(A, 'GET', '/site.cfg', { auth: SITE })).status).toBe(200);
    expect((await http(A, 'GET', `/managed/${MAC}.cfg`, { auth: SITE })).body).toContain('reg.1.address="1001"');
    expect((await http(A, 'PUT', override, { auth: SITE, body })).status).toBe(201);

    await cluster!.stop();
    // Past the account cache's 2 s life: what A serves now comes from what it holds.
    await sleep(2500);
    expect((await http(A, 'GET', '/site.cfg', { auth: SITE })).status).toBe(200);
    expect((await http(A, 'GET', '/sip.ld', { auth: SITE })).status).toBe(200);
    expect((await http(A, 'GET', '/000000000000.cfg', { auth: SITE })).status).toBe(200);
    const managed = await http(A, 'GET', `/managed/${MAC}.cfg`, { auth: SITE });
    expect(managed.status, managed.body).toBe(200);
    expect(managed.body).toContain('reg.1.address="1001"');
    // Not provable: a stored upload, an upload, an account never seen.
    for (const r of [
      await http(A, 'GET', override, { auth: SITE }),
      await http(A, 'PUT', override, { auth: SITE, body: '<PHONE_CONFIG/>' }),
      await http(A, 'GET', '/site.cfg', { auth: basic('stranger', 'x') }),
    ]) {
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
    }

    // B starts while the database is down: it listens, serves no guess.
    b = await startNode(site, 2);
    const B = b.ports.http!;
    expect(b.child.exitCode).toBe(null);
    const bManaged = await http(B, 'GET', `/managed/${MAC}.cfg`, { auth: SITE });
    expect(bManaged.status).toBe(503);
    expect(bManaged.headers['retry-after']).toBe('1');
    expect((await http(B, 'GET', '/site.cfg', { auth: SITE })).status).toBe(503);

    await cluster!.start();
    const up = Date.now();
    // Both back by themselves: B reads the fleet and the accounts, A stores uploads again.
    // (Every worker process of B reconnects on its own: four answers in a row, whichever worker takes them.)
    const fourOk = async (port: number, path: string) => {
      for (let i = 0; i < 4; i++) if ((await http(port, 'GET', path, { auth: SITE })).status !== 200) return false;
      return true;
    };
    const bBack = await within(10_000, () => fourOk(B, `/managed/${MAC}.cfg`));
    expect(bBack).toBeLessThan(10_000);
    expect((await http(B, 'GET', `/managed/${MAC}.cfg`, { auth: SITE })).body, b.output().slice(-3000)).toContain('reg.1.address="1001"');
    expect((await http(B, 'GET', '/site.cfg', { auth: SITE })).status).toBe(200);
    const aBack = await within(10_000, async () => (await http(A, 'PUT', override, { auth: SITE, body: '<PHONE_CONFIG><OVERRIDES up.note="after"/></PHONE_CONFIG>' })).status < 300);
    expect(aBack).toBeLessThan(10_000);
    expect((await http(B, 'GET', override, { auth: SITE })).body).toContain('after');
    process.stderr.write(`[nodes/outage] B served the managed file ${bBack} ms after the cluster answered (${Date.now() - up} ms ago); A stored again ${aBack} ms after that\n`);

    // The feeds are back too: a change now reaches both within a second.
    const admin = await openAdmin(loadServerOptions({ config: site.config(1) }), { who: 'outage-test' });
    try {
      await admin.admin.fleet.apply([{ op: 'settings.set', scope: { kind: 'phone', tenant: 'default', name: MAC }, values: { 'reg.1.address': '1002' } }]);
    } finally {
      await admin.close();
    }
    for (const port of [A, B]) {
      const ms = await within(3000, async () => (await http(port, 'GET', `/managed/${MAC}.cfg`, { auth: SITE })).body.includes('reg.1.address="1002"'));
      expect(ms).toBeLessThan(1000);
    }
    expect(a!.child.exitCode).toBe(null);
    expect(b.child.exitCode).toBe(null);
  }, 180_000);
});
