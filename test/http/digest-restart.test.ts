// Issue 13 item 9: a Digest response seen before `serve` restarts is never accepted after it.
// The signing secret persists in the store but the used-nonce table lives in memory, so nonces
// carry the issuing process's epoch: the restarted server answers a captured Authorization with
// 401 stale=true (RFC 7616 §3.3), and the phone simply retries with a fresh nonce. A real
// restart: `polyprov serve` as a child process, stopped and started again on the same data.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { openStore } from '../../src/store/open.ts';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { digestAuth, req } from '../support/http-client.ts';
import { MAC1, standardTree, tempDir } from '../support/tree.ts';

const root = standardTree();
const data = tempDir();
const children: ServeChild[] = [];
const serve = async () => {
  const c = await startServe(['--root', root, '--data', data, '--policy', 'accounts'], ['http']);
  children.push(c);
  return `http://127.0.0.1:${c.ports.http}`;
};
const override = (label: string) => `<polycomConfig reg.1.label="${label}"/>\n`;
const OVERRIDE = `/overrides/${MAC1}-phone.cfg`;

/** A fresh challenge from `url` answered for (method, path) as the phone's account p1. */
async function authorize(url: string, method: string, path: string): Promise<string> {
  const ch = await req(`${url}${path}`, { method: 'GET' });
  expect(ch.status).toBe(401);
  return digestAuth(ch.challenges.find((c) => c.includes('SHA-256'))!, 'p1', 'p1-pass', method, path, 1, 'SHA-256');
}

beforeAll(async () => {
  const store = await openStore({ data, storeUrl: 'sqlite' });
  await store.accounts.put(makeAccount('phone', 'p1', 'p1-pass', 'polyprov', MAC1 as Mac));
  await store.close();
});
afterAll(async () => {
  for (const c of children) await c.stop();
});

describe('issue 13 item 9: Digest replay after a restart', () => {
  test('RFC 7616 §3.3: a GET and a PUT captured before `serve` restarts get 401 stale=true after it; a fresh nonce works', async () => {
    let url = await serve();
    const getAuth = await authorize(url, 'GET', `/${MAC1}-line.cfg`);
    expect((await req(`${url}/${MAC1}-line.cfg`, { headers: { authorization: getAuth } })).status).toBe(200);
    const putAuth = await authorize(url, 'PUT', OVERRIDE);
    const put = await req(`${url}${OVERRIDE}`, { method: 'PUT', body: override('before'), headers: { authorization: putAuth } });
    expect(put.status).toBeLessThan(300);

    await children.pop()!.stop();
    url = await serve();

    const replayGet = await req(`${url}/${MAC1}-line.cfg`, { headers: { authorization: getAuth } });
    expect(replayGet.status).toBe(401);
    expect(replayGet.body.toString()).toContain('PP_DIGEST_NONCE_REPLAYED');
    expect(replayGet.challenges[0]).toContain('stale=true');
    // The captured PUT with a substituted body is refused, and the stored override is unchanged.
    const replayPut = await req(`${url}${OVERRIDE}`, { method: 'PUT', body: override('substituted'), headers: { authorization: putAuth } });
    expect(replayPut.status).toBe(401);
    expect(replayPut.challenges[0]).toContain('stale=true');

    // The phone retries with the fresh nonce it was given, without new credentials.
    const stale = replayGet.challenges.find((c) => c.includes('SHA-256'))!;
    const retry = digestAuth(stale, 'p1', 'p1-pass', 'GET', `/${MAC1}-line.cfg`, 1, 'SHA-256');
    expect((await req(`${url}/${MAC1}-line.cfg`, { headers: { authorization: retry } })).status).toBe(200);
    const stored = await req(`${url}${OVERRIDE}`, { headers: { authorization: await authorize(url, 'GET', OVERRIDE) } });
    expect(stored.status).toBe(200);
    expect(stored.body.toString()).toBe(override('before'));
  }, 60_000);
});
