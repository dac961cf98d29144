// Issue 16, Several nodes, one PostgreSQL: "A node that loses the database keeps serving tree
// files, images and what its accounts cache holds, answers 503 with Retry-After for the rest
// (uploads, anything it cannot prove current), reconnects by itself, and never exits" — and a node
// started while the database is down starts (issue 16; before, serve exited 3 reading the digest
// secret). A private cluster (initdb as user postgres in a temp directory, on a free loopback port,
// never the machine's shared cluster) is stopped and started under two nodes: A, warmed before the
// outage, and B, started during it. Skipped, with one line naming the package, without initdb/pg_ctl.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openAdmin } from '../../src/core/open-core.ts';
import type { Mac } from '../../src/domain.ts';
import { loadServerOptions } from '../../src/options.ts';
import type { ServeChild } from '../phone/serve-child.ts';
import { missingPeer, peerPath, requirePeer, requirePeers } from '../support/peers.ts';
import { basic, cli, http, makeSite, sleep, startNode, within, type Site } from './nodes-support.ts';

function havePrivateCluster(): boolean {
  if (!requirePeers('initdb', 'pg_ctl') || !requirePeer('postgres', 'postgresql') || !requirePeer('runuser', 'util-linux')) return false;
  if (process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postgres']).status !== 0) {
    missingPeer('a private PostgreSQL cluster (initdb runs as user postgres via runuser: needs root and the postgres user)', 'postgresql', 'not possible here');
    return false;
  }
  return true;
}

const HAVE_CLUSTER = havePrivateCluster();
const PG_BIN = dirname(peerPath('pg_ctl') ?? '/usr/local/bin/pg_ctl');
const MAC = '0004f2d00d01' as Mac;
const SITE = basic('site', 'site-pass');

function asPostgres(args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!HAVE_CLUSTER)('issue 16, Several nodes: losing the database', () => {
  let dir: string;
  let pgdata: string;
  let port: number;
  let site: Site;
  let a: ServeChild | undefined;
  let b: ServeChild | undefined;
  const pgCtl = (...args: string[]) => asPostgres([join(PG_BIN, 'pg_ctl'), '-D', pgdata, ...args]);
  const startCluster = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', 'start');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polyprov-nodes-outage-'));
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    pgdata = join(dir, 'pgdata');
    asPostgres([join(PG_BIN, 'initdb'), '-D', pgdata, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions', '-E', 'UTF8']);
    port = await freePort();
    startCluster();
    site = makeSite({ storeUrl: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await cli(site, 0, ['accounts', 'add', 'site', '--kind', 'site', '--password-stdin'], 'site-pass\n');
    await cli(site, 0, ['fleet', 'add', MAC, '--create']);
    await cli(site, 0, ['settings', 'set', `phone:${MAC}`, 'reg.1.address=1001']);
    a = await startNode(site, 1);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (pgdata && existsSync(join(pgdata, 'postmaster.pid'))) spawnSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), '-D', pgdata, '-m', 'immediate', 'stop'], { timeout: 30_000 });
    await site?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('A keeps serving tree files, images, cached accounts and managed files, 503 + Retry-After for the rest; B starts without the database; both recover by themselves', async () => {
    const A = a!.ports.http!;
    const override = `/overrides/${MAC}-phone.cfg`;
    const body = '<PHONE_CONFIG><OVERRIDES up.note="before"/></PHONE_CONFIG>';
    // Warm A: the site account, the managed file, an upload.
    expect((await http(A, 'GET', '/site.cfg', { auth: SITE })).status).toBe(200);
    expect((await http(A, 'GET', `/managed/${MAC}.cfg`, { auth: SITE })).body).toContain('reg.1.address="1001"');
    expect((await http(A, 'PUT', override, { auth: SITE, body })).status).toBe(201);

    pgCtl('-m', 'fast', '-w', 'stop');
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

    startCluster();
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
