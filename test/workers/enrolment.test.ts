// Staging enrolment under `serve --workers 2` (issue 16, One machine, every core: "staging
// enrolment … consistent across them"): a factory phone enrolled by one worker is known to every
// worker — its issued credentials open its files on both, and the staging account no longer does.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { digestAuth, req } from '../support/http-client.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { Connection, digestChallenge } from './cluster-child.ts';

const MAC3 = '0004f2000003';
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
let serve: ServeChild;

beforeAll(async () => {
  const tree = standardTree({ [`${MAC3}-line.cfg`]: '<polycomConfig reg.1.auth.password="three"/>' });
  serve = await startServe(['--root', tree, '--data', tempDir(), '--staging', '--workers', '2', '--log-level', 'warn'], ['http'], 90_000);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe('issue 16 One machine, every core: staging enrolment across workers', () => {
  test('credentials issued by one worker open the phone\'s files on both; then the staging account reaches them on neither', async () => {
    const url = `http://127.0.0.1:${serve.ports.http}`;
    const enrol = await req(`${url}/overrides/${MAC3}-phone.cfg`, { headers: basic('PlcmSpIp', 'PlcmSpIp') });
    expect(enrol.status).toBe(200);
    const user = /device\.prov\.user="([^"]+)"/.exec(enrol.body.toString())![1]!;
    const password = /device\.prov\.password="([^"]+)"/.exec(enrol.body.toString())![1]!;
    // Each worker (named by its nonce) accepts the issued credentials.
    const accepted = new Set<number>();
    for (let i = 0; i < 20 && accepted.size < 2; i++) {
      const c = new Connection(serve.ports.http!);
      try {
        const ch = digestChallenge(await c.get(`/${MAC3}-line.cfg`));
        const ok = await c.get(`/${MAC3}-line.cfg`, { authorization: digestAuth(ch.challenge, user, password, 'GET', `/${MAC3}-line.cfg`) });
        expect(ok.status).toBe(200);
        expect(ok.body.toString()).toContain('reg.1.auth.password');
        accepted.add(nonceWorker(ch.nonce)!);
      } finally {
        c.close();
      }
    }
    expect([...accepted].sort()).toEqual([0, 1]);
    // Account caches live 2 s; after that no worker lets the factory account read this phone's files.
    await new Promise((r) => setTimeout(r, 2100));
    const statuses = new Set<number>();
    for (let i = 0; i < 6; i++) statuses.add((await req(`${url}/${MAC3}-line.cfg`, { headers: basic('PlcmSpIp', 'PlcmSpIp') })).status); // new connections: both workers in turn
    expect([...statuses]).toEqual([403]);
  }, 60_000);
});
