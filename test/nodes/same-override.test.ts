// Issue 16, Behaviour under faults: "Two nodes receive uploads of the same override at the same
// moment: one complete version is current, history keeps both." Two `serve` processes on one
// PostgreSQL schema; rounds of two PUTs of one phone's override, one to each node, released
// together (each request's headers and body sent only once both connections are open). After
// every round: the current version is byte for byte one of the two bodies, and the history holds
// both bodies as two whole versions (the commits are serialised per file by an advisory lock).
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openAdmin, type AdminSession } from '../../src/core/open-core.ts';
import type { Mac } from '../../src/domain.ts';
import { loadServerOptions } from '../../src/options.ts';
import type { ServeChild } from '../phone/serve-child.ts';
import { missingPeer } from '../support/peers.ts';
import { basic, cli, http, makeSite, pgUnreachable, startNode, type Site } from './nodes-support.ts';

const why = await pgUnreachable();
if (why) missingPeer('PostgreSQL at 127.0.0.1:5432 (POLYPROV_TEST_PG_URL)', 'postgresql', `not reachable: ${why}`);

const MAC = '0004f2e0e0e1';
const PATH = `/overrides/${MAC}-phone.cfg`;
const AUTH = basic('site', 'site-pass');
const ROUNDS = 8;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A raw PUT on an open socket, released by `go`; resolves to the status code. */
function armedPut(port: number, body: string): Promise<{ go: () => void; status: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      let got = '';
      const status = new Promise<number>((res) => {
        s.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
          if (m) {
            res(Number(m[1]));
            s.destroy();
          }
        });
        s.on('close', () => res(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
      });
      const req = `PUT ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${AUTH}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
      resolve({ go: () => s.write(req), status });
    });
    s.setTimeout(15_000, () => s.destroy());
    s.on('error', reject);
  });
}

describe.skipIf(why !== undefined)('issue 16, Behaviour under faults: two nodes receive the same override at the same moment', () => {
  let site: Site;
  let a: ServeChild;
  let b: ServeChild;
  let admin: AdminSession;

  beforeAll(async () => {
    site = makeSite({ options: { uploadKeepVersions: 100 } });
    await cli(site, 0, ['accounts', 'add', 'site', '--kind', 'site', '--password-stdin'], 'site-pass\n');
    [a, b] = await Promise.all([startNode(site, 1), startNode(site, 2)]);
    admin = await openAdmin(loadServerOptions({ config: site.config(1) }), { who: 'test' });
  }, 180_000);

  afterAll(async () => {
    await admin?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await site?.cleanup();
  });

  test(`${ROUNDS} rounds: one complete version current, both kept in the history`, async () => {
    let versions = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Bodies of a few KB, so a mix of the two would show.
      const bodies = ['A', 'B'].map((n) => `<PHONE_CONFIG><OVERRIDES up.note="${n}${round}" x="${n.repeat(4000)}"/></PHONE_CONFIG>`);
      const armed = await Promise.all([armedPut(a.ports.http!, bodies[0]!), armedPut(b.ports.http!, bodies[1]!)]);
      for (const x of armed) x.go();
      const statuses = await Promise.all(armed.map((x) => x.status));
      for (const st of statuses) expect([201, 204]).toContain(st);
      versions += 2;
      const current = await http(a.ports.http!, 'GET', PATH, { auth: AUTH });
      expect(bodies).toContain(current.body);
      expect((await http(b.ports.http!, 'GET', PATH, { auth: AUTH })).body).toBe(current.body);
      const [h] = await admin.admin.uploads.list(MAC as Mac, 'override-phone');
      expect(h!.versions.length).toBe(versions);
      // Both of this round's bodies are whole versions, the current one newest.
      const shas = h!.versions.slice(0, 2).map((v) => v.sha256).sort();
      expect(shas).toEqual(bodies.map(sha).sort());
      expect(h!.versions[0]!.sha256).toBe(sha(current.body));
    }
  }, 180_000);
});
