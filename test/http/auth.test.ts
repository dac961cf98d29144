// Access policy `accounts`: Basic and Digest (RFC 7616), per-phone accounts, staging and
// enrolment, mutual TLS, and secrets that never reach a log.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { curl, digestAuth, req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree, tempDir } from '../support/tree.ts';
import { makeCertificate } from '../support/certs.ts';
import { requirePeer } from '../support/peers.ts';

const HAVE_CURL = requirePeer('curl', 'curl');
let srv: TestServer;
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

beforeAll(async () => {
  srv = await startTestServer(standardTree(), { policy: 'accounts', realm: 'polyprov' });
  await srv.store.accounts.put(makeAccount('site', 'site', 'site-pass', 'polyprov'));
  await srv.store.accounts.put(makeAccount('phone', 'p1', 'p1-pass', 'polyprov', MAC1 as Mac));
  await srv.store.accounts.put(makeAccount('phone', 'p2', 'p2-pass', 'polyprov', MAC2 as Mac));
});
afterAll(async () => srv.close());

describe('policy accounts (issue 4, Access policy)', () => {
  test('no credentials: 401 with Digest SHA-256, Digest MD5 and Basic challenges', async () => {
    const r = await req(`${srv.url}/site.cfg`);
    expect(r.status).toBe(401);
    const wa = r.challenges;
    expect(wa[0]).toMatch(/^Digest realm="polyprov", qop="auth", nonce="[^"]+", opaque="[^"]+", algorithm=SHA-256$/);
    expect(wa.some((h) => /algorithm=MD5/.test(h))).toBe(true);
    expect(wa.some((h) => h.startsWith('Basic '))).toBe(true);
  });

  test('Basic with a site account reads shared files; a wrong password is refused', async () => {
    expect((await req(`${srv.url}/site.cfg`, { headers: basic('site', 'site-pass') })).status).toBe(200);
    expect((await req(`${srv.url}/site.cfg`, { headers: basic('site', 'nope') })).status).toBe(401);
  });

  test.skipIf(!HAVE_CURL)('RFC 7616: curl --digest authenticates (MD5, qop=auth)', async () => {
    const r = await curl(['--digest', '-u', 'p1:p1-pass', '-o', '-', '-w', '\n%{http_code}', `${srv.url}/${MAC1}-line.cfg`]);
    expect(r.stdout.trim().endsWith('200')).toBe(true);
    expect(r.stdout).toContain('reg.1.address="1001"');
  });

  test('RFC 7616 SHA-256 digest works, and a replayed response (same nonce and nc) is refused', async () => {
    const ch = await req(`${srv.url}/site.cfg`);
    const challenge = ch.challenges[0]!;
    expect(challenge).toContain('SHA-256');
    const auth = digestAuth(challenge, 'site', 'site-pass', 'GET', '/site.cfg', 1, 'SHA-256');
    expect((await req(`${srv.url}/site.cfg`, { headers: { authorization: auth } })).status).toBe(200);
    const replay = await req(`${srv.url}/site.cfg`, { headers: { authorization: auth } });
    expect(replay.status).toBe(401);
    expect(replay.body.toString()).toContain('PP_DIGEST_NONCE_REPLAYED');
    // The next nonce count on the same nonce is fine.
    const next = digestAuth(challenge, 'site', 'site-pass', 'GET', '/site.cfg', 2, 'SHA-256');
    expect((await req(`${srv.url}/site.cfg`, { headers: { authorization: next } })).status).toBe(200);
  });

  test('a digest response for one file cannot be used for another', async () => {
    const ch = await req(`${srv.url}/site.cfg`);
    const challenge = ch.challenges[1]!;
    expect(challenge).toContain('algorithm=MD5');
    const auth = digestAuth(challenge, 'site', 'site-pass', 'GET', '/site.cfg');
    // The same response is good for the file it was computed for, so the refusal below is about the URI.
    const own = digestAuth(challenge, 'site', 'site-pass', 'GET', '/site.cfg', 5);
    expect((await req(`${srv.url}/site.cfg`, { headers: { authorization: own } })).status).toBe(200);
    expect((await req(`${srv.url}/sip.ld`, { headers: { authorization: auth, range: 'bytes=0-1' } })).status).toBe(401);
  });

  test("one phone's credentials are refused on another phone's files", async () => {
    expect((await req(`${srv.url}/${MAC1}-line.cfg`, { headers: basic('p1', 'p1-pass') })).status).toBe(200);
    const r = await req(`${srv.url}/${MAC2}-line.cfg`, { headers: basic('p1', 'p1-pass') });
    expect(r.status).toBe(403);
    const w = await req(`${srv.url}/overrides/${MAC2}-phone.cfg`, { method: 'PUT', body: '<x a="1"/>', headers: basic('p1', 'p1-pass') });
    expect(w.status).toBe(403);
  });

  test('a phone bound to its own account: no other account (not even the site account) reaches its files', async () => {
    const r = await req(`${srv.url}/${MAC1}-line.cfg`, { headers: basic('site', 'site-pass') });
    expect(r.status).toBe(403);
    expect((await req(`${srv.url}/site.cfg`, { headers: basic('p1', 'p1-pass') })).status).toBe(200);
  });

  test('the factory PlcmSpIp account is refused while staging is off', async () => {
    await srv.store.settings.set('staging', 'off');
    expect((await req(`${srv.url}/site.cfg`, { headers: basic('PlcmSpIp', 'PlcmSpIp') })).status).toBe(401);
  });
});

describe('staging and enrolment (issue 4, Per-phone credentials)', () => {
  let s: TestServer;
  const MAC3 = '0004f2000003';
  beforeAll(async () => {
    s = await startTestServer(standardTree({ [`${MAC3}-line.cfg`]: '<polycomConfig reg.1.auth.password="three"/>' }), { policy: 'accounts', staging: true });
  });
  afterAll(async () => s.close());

  test('a staging phone gets unique device.prov credentials in its <MAC>-phone.cfg, and once used, its files require them', async () => {
    const staging = basic('PlcmSpIp', 'PlcmSpIp');
    expect((await req(`${s.url}/${MAC3}-line.cfg`, { headers: staging })).status).toBe(200);
    const enrol = await req(`${s.url}/overrides/${MAC3}-phone.cfg`, { headers: staging });
    expect(enrol.status).toBe(200);
    const body = enrol.body.toString();
    expect(body).toContain('device.set="1"');
    expect(body).toContain('device.prov.user.set="1"');
    expect(body).toContain('device.prov.password.set="1"');
    const user = /device\.prov\.user="([^"]+)"/.exec(body)![1]!;
    const password = /device\.prov\.password="([^"]+)"/.exec(body)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    // The phone applies them and comes back with them.
    expect((await req(`${s.url}/${MAC3}-line.cfg`, { headers: basic(user, password) })).status).toBe(200);
    // From now on the staging account no longer reaches this phone's files.
    await new Promise((r) => setTimeout(r, 2100)); // account caches are 2 s
    expect((await req(`${s.url}/${MAC3}-line.cfg`, { headers: staging })).status).toBe(403);
    expect((await req(`${s.url}/site.cfg`, { headers: staging })).status).toBe(200);
    const acct = await s.store.accounts.forPhone(MAC3 as Mac);
    expect(acct?.pending).toBeFalsy();
    expect(JSON.stringify(acct)).not.toContain(password);
  });

  test('secrets never reach the log: SIP and provisioning passwords are absent from every log line', async () => {
    await s.core.audit.flush();
    const all = s.logs.join('\n') + srv.logs.join('\n');
    for (const secret of ['line-one-secret', 'line-two-secret', 'three', 'PlcmSpIp:', 'p1-pass', 'site-pass']) expect(all).not.toContain(secret);
  });
});

describe('mutual TLS (issue 4: a client certificate maps to a phone)', () => {
  let s: TestServer;
  const dir = tempDir('polyprov-tls-');
  const pem = (base: string, c: { cert: string; key: string }) => {
    writeFileSync(join(dir, `${base}.crt`), c.cert);
    writeFileSync(join(dir, `${base}.key`), c.key);
  };
  beforeAll(async () => {
    // Made in Node, no openssl (issue 13 item 1): a CA, the server's certificate, the phone's signed by the CA.
    const ca = { ...makeCertificate({ cn: 'polyprov test CA' }), cn: 'polyprov test CA' };
    pem('ca', ca);
    pem('srv', makeCertificate({ cn: 'localhost' }));
    pem('phone', makeCertificate({ cn: MAC1, issuer: ca }));
    writeFileSync(join(dir, 'none'), '');
    s = await startTestServer(standardTree(), {
      policy: 'accounts',
      http: undefined,
      https: '127.0.0.1:0',
      cert: join(dir, 'srv.crt'),
      key: join(dir, 'srv.key'),
      clientCa: join(dir, 'ca.crt'),
    });
  });
  afterAll(async () => s.close());

  test.skipIf(!HAVE_CURL)('the phone certificate (CN = MAC) reads its own files without a password, not another phone’s', async () => {
    const tls = { cert: readFileSync(join(dir, 'phone.crt')), key: readFileSync(join(dir, 'phone.key')) };
    const own = await req(`${s.url}/${MAC1}-line.cfg`, tls);
    expect(own.status).toBe(200);
    const other = await req(`${s.url}/${MAC2}-line.cfg`, tls);
    expect(other.status).toBe(403);
    const none = await req(`${s.url}/${MAC1}-line.cfg`);
    expect(none.status).toBe(401);
    const c = await curl(['-k', '--cert', join(dir, 'phone.crt'), '--key', join(dir, 'phone.key'), '-o', '/dev/null', '-w', '%{http_code}', `${s.url}/${MAC1}-line.cfg`]);
    expect(c.stdout).toBe('200');
  });
});
