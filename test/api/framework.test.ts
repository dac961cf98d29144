// The REST API framework (issue 15 "Shape", "Who may do what") over real HTTP on 127.0.0.1:
// bearer tokens, the per-address failure limit and its fail2ban log lines, problem+json for bad
// input (never 500), If-Match (428/412), the change record with the token's name, secrets never
// answered, metrics and health still on the admin listener.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ProvError } from '../../src/errors.ts';
import { startApi, type ApiHarness } from './api-support.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi({ maxAuthFailures: 5, authWindowMs: 60_000 });
});
afterAll(async () => {
  await h?.close();
});

function expectProblem(r: { status: number; headers: Record<string, unknown>; json: any }, status: number, code: string, pointer?: string) {
  expect(r.status).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(r.json).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  if (pointer !== undefined) expect(r.json.pointer).toBe(pointer);
}

describe('issue 15 Shape: the admin listener', () => {
  test('metrics and health stay beside /api/v1', async () => {
    expect((await h.call('GET', '/metrics')).text).toContain('polyprov_up 1');
    expect((await h.call('GET', '/healthz')).text).toBe('ok\n');
    expect((await h.call('GET', '/nothing')).status).toBe(404);
  });

  test('an unknown API route is a problem+json 404 (PP_API_NOT_FOUND)', async () => {
    expectProblem(await h.call('GET', '/api/v1/no-such-thing', { token: h.tokens.unbound.admin }), 404, 'PP_API_NOT_FOUND');
  });
});

describe('issue 15 Who may do what: tokens', () => {
  test('no Authorization → 401 PP_AUTH_REQUIRED with a Bearer challenge; an unknown token → 401 PP_AUTH_FAILED', async () => {
    const none = await h.call('GET', '/api/v1/tokens', { headers: { 'x-forwarded-for': '1' } });
    expectProblem(none, 401, 'PP_AUTH_REQUIRED');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
    expectProblem(await h.call('GET', '/api/v1/tokens', { token: 'ppt_' + 'A'.repeat(43) }), 401, 'PP_AUTH_FAILED');
    expectProblem(await h.call('GET', '/api/v1/tokens', { token: 'not-a-token' }), 401, 'PP_AUTH_FAILED');
  });

  test('a read-only token may not create a token (403 PP_API_FORBIDDEN), a tenant-bound admin does not see tokens (404)', async () => {
    expectProblem(await h.call('POST', '/api/v1/tokens', { token: h.tokens.unbound['read-only'], body: { name: 'x', role: 'admin' } }), 403, 'PP_API_FORBIDDEN');
    expectProblem(await h.call('GET', '/api/v1/tokens', { token: h.tokens.acme.admin }), 404, 'PP_API_NOT_FOUND');
  });

  test('POST /tokens answers the token once; lists never show it or its hash; it works; revoked it is 401; a second of that name is 409', async () => {
    const made = await h.call('POST', '/api/v1/tokens', { token: h.tokens.unbound.admin, body: { name: 'console', role: 'operator', tenant: 'acme' } });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'console', role: 'operator', tenant: 'acme' });
    expect(made.headers['cache-control']).toBe('no-store');
    const token = made.json.token as string;
    expect(token).toMatch(/^ppt_[A-Za-z0-9_-]{43}$/);
    const stored = await h.store.tokens.get('console');
    expect(stored!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(token);
    const list = await h.call('GET', '/api/v1/tokens?limit=500', { token: h.tokens.unbound.admin });
    expect(list.status).toBe(200);
    expect(list.headers['cache-control']).toBe('no-store');
    expect(list.json.items.map((t: any) => t.name)).toContain('console');
    expect(list.text).not.toContain(token);
    expect(list.text).not.toContain(stored!.hash);
    expect(list.text).not.toContain('"hash"');
    expect((await h.call('GET', '/api/v1/staging', { token })).status).toBe(200);
    expectProblem(await h.call('POST', '/api/v1/tokens', { token: h.tokens.unbound.admin, body: { name: 'console', role: 'admin' } }), 409, 'PP_API_TOKEN_EXISTS', '/name');
    expect((await h.call('DELETE', '/api/v1/tokens/console', { token: h.tokens.unbound.admin })).status).toBe(204);
    expectProblem(await h.call('GET', '/api/v1/staging', { token }), 401, 'PP_AUTH_FAILED');
    expectProblem(await h.call('DELETE', '/api/v1/tokens/console', { token: h.tokens.unbound.admin }), 404, 'PP_API_NOT_FOUND');
    const changes = await h.admin.changes({ target: 'console' });
    expect(changes.map((c) => `${c.who} ${c.operation}`)).toEqual(['unbound-admin tokens.revoke', 'unbound-admin tokens.add']);
    expect(JSON.stringify(changes)).not.toContain(token);
    // Never in the log either.
    expect(h.logs.join('\n')).not.toContain(token);
  });
});

describe('issue 15 Errors: bad input is a 4xx problem with a pointer, never 500', () => {
  const post = (body: unknown, raw?: string, headers?: Record<string, string>) => h.call('POST', '/api/v1/tokens', { token: h.tokens.unbound.admin, ...(raw !== undefined ? { raw, headers: { 'content-type': 'application/json', ...headers } } : { body }) });

  test('malformed JSON, an empty body, a non-object, __proto__ → 400 PP_API_INVALID', async () => {
    expectProblem(await post(undefined, '{"name": "x", role'), 400, 'PP_API_INVALID');
    expect((await post(undefined, '')).json.detail).toMatch(/empty/);
    expectProblem(await post([1]), 400, 'PP_API_INVALID', '');
    // Prototype pollution is refused by Fastify's parser as invalid JSON.
    expectProblem(await post(undefined, '{"name":"x","role":"admin","__proto__":{"a":1}}'), 400, 'PP_API_INVALID');
  });
  test('a wrong type → 400 with the field pointer (no coercion of "5" into 5 or 5 into "5")', async () => {
    expectProblem(await post({ name: 5, role: 'admin' }), 400, 'PP_API_INVALID', '/name');
  });
  test('an unknown field → 400 naming it, not silently dropped', async () => {
    const r = await post({ name: 'y', role: 'admin', rol: 'x' });
    expectProblem(r, 400, 'PP_API_INVALID', '/rol');
    expect(await h.store.tokens.get('y')).toBeUndefined();
  });
  test('a missing required field → 400 pointing at it; a value out of the enum → 400', async () => {
    expectProblem(await post({ name: 'y' }), 400, 'PP_API_INVALID', '/role');
    expectProblem(await post({ name: 'y', role: 'root' }), 400, 'PP_API_INVALID', '/role');
  });
  test('the value sent is never echoed in the problem (it may be a secret)', async () => {
    const r = await h.call('POST', '/api/v1/accounts', { token: h.tokens.unbound.admin, body: { user: 'site1', kind: 'site', password: 'short' } });
    expectProblem(r, 400, 'PP_API_INVALID', '/password');
    expect(r.text).not.toContain('short"');
  });
  test('an oversized body → 413 PP_API_TOO_LARGE', async () => {
    expectProblem(await post(undefined, JSON.stringify({ name: 'x'.repeat(2 << 20), role: 'admin' })), 413, 'PP_API_TOO_LARGE');
  });
  test('a body of another content type → 415 PP_API_MEDIA_TYPE', async () => {
    expectProblem(await h.call('POST', '/api/v1/tokens', { token: h.tokens.unbound.admin, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'PP_API_MEDIA_TYPE');
  });
  test('a bad query parameter → 400 pointing into /query', async () => {
    expectProblem(await h.call('GET', '/api/v1/tokens?limit=501', { token: h.tokens.unbound.admin }), 400, 'PP_API_INVALID', '/query/limit');
    expectProblem(await h.call('GET', '/api/v1/tokens?cursor=%%%', { token: h.tokens.unbound.admin }), 400, 'PP_BAD_REQUEST', '/cursor');
  });
});

describe('issue 15 Writes: updates need If-Match (428 without, 412 on a conflict)', () => {
  test('PUT /staging: 428 without If-Match, 412 with a stale ETag, 200 with the current one; the change is recorded with the token name', async () => {
    const t = h.tokens.unbound.admin;
    const got = await h.call('GET', '/api/v1/staging', { token: t });
    expect(got.json).toMatchObject({ tenant: 'default', on: false });
    const etag = String(got.headers.etag);
    expect(etag).toMatch(/^".+"$/);
    expectProblem(await h.call('PUT', '/api/v1/staging', { token: t, body: { on: true } }), 428, 'PP_API_PRECONDITION_REQUIRED');
    expectProblem(await h.call('PUT', '/api/v1/staging', { token: t, body: { on: true }, headers: { 'if-match': '"stale"' } }), 412, 'PP_API_PRECONDITION_FAILED');
    const put = await h.call('PUT', '/api/v1/staging', { token: t, body: { on: true }, headers: { 'if-match': etag } });
    expect(put.status).toBe(200);
    expect(put.json.on).toBe(true);
    expect(put.headers.etag).not.toBe(etag);
    // The old ETag no longer matches: a second writer that read before is refused.
    expectProblem(await h.call('PUT', '/api/v1/staging', { token: t, body: { on: false }, headers: { 'if-match': etag } }), 412, 'PP_API_PRECONDITION_FAILED');
    const [c] = await h.admin.changes({ target: 'staging' });
    expect(c).toMatchObject({ who: 'unbound-admin', operation: 'staging.set' });
  });

  test("a tenant-bound token reads its own tenant's staging and gets 404 for another's", async () => {
    expect((await h.call('GET', '/api/v1/staging', { token: h.tokens.acme['read-only'] })).json).toMatchObject({ tenant: 'acme' });
    expectProblem(await h.call('GET', '/api/v1/staging?tenant=beta', { token: h.tokens.acme['read-only'] }), 404, 'PP_API_NOT_FOUND');
  });
});

describe('issue 15 Secrets: accounts never answer a password', () => {
  test('create with a password (write-only) → {"set": true}; list/get never hold the password or HA1; delete', async () => {
    const t = h.tokens.unbound.admin;
    const pw = 'Sup3rSecretPassw0rd';
    const made = await h.call('POST', '/api/v1/accounts', { token: t, body: { user: 'hq', kind: 'site', password: pw } });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ user: 'hq', kind: 'site', tenant: 'default', password: { set: true } });
    expectProblem(await h.call('POST', '/api/v1/accounts', { token: t, body: { user: 'hq', kind: 'site', password: pw } }), 409, 'PP_API_EXISTS', '/user');
    const ha1 = (await h.store.accounts.get('hq'))!.ha1Md5;
    for (const r of [made, await h.call('GET', '/api/v1/accounts', { token: t }), await h.call('GET', '/api/v1/accounts/hq', { token: t }), await h.call('GET', '/api/v1/changes', { token: t })]) {
      expect(r.status).toBe(200 + (r === made ? 1 : 0));
      expect(r.text).not.toContain(pw);
      expect(r.text).not.toContain(ha1);
    }
    const pw2 = 'An0therSecretPassw0rd';
    const set = await h.call('PUT', '/api/v1/accounts/hq/password', { token: t, body: { password: pw2 } });
    expect(set.status).toBe(200);
    expect(set.json.password).toEqual({ set: true });
    expect(set.text).not.toContain(pw2);
    expect((await h.store.accounts.get('hq'))!.ha1Md5).not.toBe(ha1);
    expectProblem(await h.call('GET', '/api/v1/accounts/hq', { token: h.tokens.beta.admin }), 404, 'PP_API_NOT_FOUND');
    expectProblem(await h.call('GET', '/api/v1/accounts/hq', { token: h.tokens.unbound.operator }), 403, 'PP_API_FORBIDDEN');
    expect((await h.call('DELETE', '/api/v1/accounts/hq', { token: t })).status).toBe(204);
    expect(await h.store.accounts.get('hq')).toBeUndefined();
    // A tenant-bound admin makes its tenant's accounts; another tenant's admin neither sees nor names them.
    const acme = await h.call('POST', '/api/v1/accounts', { token: h.tokens.acme.admin, body: { user: 'acme-site', kind: 'site', password: pw } });
    expect(acme.status).toBe(201);
    expect(acme.json.tenant).toBe('acme');
    expect((await h.store.accounts.get('acme-site'))!.tenant).toBe('acme');
    expect((await h.call('GET', '/api/v1/accounts', { token: h.tokens.beta.admin })).json.items).toEqual([]);
    expect((await h.call('GET', '/api/v1/accounts', { token: h.tokens.acme.admin })).json.items.map((a: any) => a.user)).toEqual(['acme-site']);
    expectProblem(await h.call('DELETE', '/api/v1/accounts/acme-site', { token: h.tokens.beta.admin }), 404, 'PP_API_NOT_FOUND');
    expectProblem(await h.call('POST', '/api/v1/accounts', { token: h.tokens.beta.admin, body: { user: 'b2', kind: 'site', password: pw, tenant: 'acme' } }), 404, 'PP_API_NOT_FOUND');
    const unbound = await h.call('POST', '/api/v1/accounts', { token: t, body: { user: 'beta-site', kind: 'site', password: pw, tenant: 'beta' } });
    expect(unbound.json.tenant).toBe('beta');
    expect(await h.store.accounts.get('hq')).toBeUndefined();
  });
});

describe('issue 15 Resources: changes, audit and lint', () => {
  test('GET /changes pages with a stable cursor; GET /audit answers; GET /lint has the findings and counts', async () => {
    const t = h.tokens.unbound.admin;
    for (let i = 0; i < 5; i++) await h.admin.tokens.add(`page-${i}`, 'read-only');
    const seen: string[] = [];
    let next: string | undefined = '/api/v1/changes?limit=2';
    for (let i = 0; i < 100 && next; i++) {
      const r = await h.call('GET', next, { token: t });
      expect(r.status).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.items.map((c: any) => `${c.at} ${c.operation} ${c.target}`));
      next = r.json.next;
    }
    const all = (await h.admin.changes({ limit: 1000 })).map((c) => `${c.at.toISOString()} ${c.operation} ${c.target}`);
    expect(seen).toEqual(all);
    expect((await h.call('GET', '/api/v1/audit?limit=5', { token: t })).json).toEqual({ items: [] });
    const lint = await h.call('GET', '/api/v1/lint', { token: h.tokens.unbound['read-only'] });
    expect(lint.status).toBe(200);
    expect(lint.json).toMatchObject({ errors: expect.any(Number), warnings: expect.any(Number), infos: expect.any(Number) });
    expect(Array.isArray(lint.json.findings)).toBe(true);
    expectProblem(await h.call('GET', '/api/v1/lint?model=NOPE', { token: t }), 400, 'PP_API_INVALID', '/query/model');
  });
});

describe('issue 15 Who may do what: failed authentication is rate-limited per source and logged for fail2ban', () => {
  test('after 5 failures in the window the address gets 429 with Retry-After, even with a good token; each failure logged as "refused PP_… from ADDR"', async () => {
    // Earlier tests failed from this address too: count up until blocked, bounded.
    let last = 0;
    for (let i = 0; i < 10 && last !== 429; i++) last = (await h.call('GET', '/api/v1/staging', { token: 'ppt_' + 'B'.repeat(43) })).status;
    expect(last).toBe(429);
    const blocked = await h.call('GET', '/api/v1/staging', { token: h.tokens.unbound.admin });
    expectProblem(blocked, 429, 'PP_RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const lines = h.logs.map((l) => JSON.parse(l)).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('refused '));
    expect(lines.some((l) => l.msg === 'refused PP_AUTH_FAILED from 127.0.0.1' && l.code === 'PP_AUTH_FAILED' && l.transport === 'api')).toBe(true);
    expect(lines.some((l) => l.msg === 'refused PP_RATE_LIMITED from 127.0.0.1')).toBe(true);
    // The fail2ban filter shipped with polyprov matches them.
    const { readFileSync } = await import('node:fs');
    const conf = readFileSync(new URL('../../contrib/fail2ban/polyprov.conf', import.meta.url), 'utf8');
    const re = new RegExp(/failregex = (.*)/.exec(conf)![1]!.replace('<HOST>', '(?<host>\\S+)'));
    const raw = h.logs.find((l) => l.includes('refused PP_AUTH_FAILED'))!;
    expect(re.exec(raw)?.groups?.host).toBe('127.0.0.1');
    expect(h.logs.join('\n')).not.toContain('B'.repeat(43));
  });
});

describe('issue 15 Secrets: answers are shaped by their response schema', () => {
  test('a field the schema does not name never leaves (a secret a handler returned by mistake); an answer missing a required field is a 500, not a half answer', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false };
    const routes = [
      { method: 'GET', url: '/away', summary: 'away', access: 'read', scope: 'global', schema: { response: { 200: schema } }, handler: async () => { throw new ProvError('PP_STORE_UNAVAILABLE', 'store unavailable: connect ECONNREFUSED 10.0.0.9:5432'); } },
      { method: 'GET', url: '/leaky', summary: 'leaky', access: 'read', scope: 'global', schema: { response: { 200: schema } }, handler: async () => ({ name: 'x', password: 'Hunter2Secret', nested: { ha1: 'f'.repeat(32) } }) },
      { method: 'GET', url: '/broken', summary: 'broken', access: 'read', scope: 'global', schema: { response: { 200: schema } }, handler: async () => ({ nom: 'x' }) },
    ] as const;
    const h2 = await startApi({ routes: routes as never });
    try {
      const leaky = await h2.call('GET', '/api/v1/leaky', { token: h2.tokens.unbound['read-only'] });
      expect(leaky.status).toBe(200);
      expect(leaky.json).toEqual({ name: 'x' });
      expect(leaky.text).not.toContain('Hunter2Secret');
      // The store away: 503 with Retry-After, the catalogue's words, not the connection detail.
      const away = await h2.call('GET', '/api/v1/away', { token: h2.tokens.unbound['read-only'] });
      expectProblem(away, 503, 'PP_STORE_UNAVAILABLE');
      expect(away.headers['retry-after']).toBe('1');
      expect(away.text).not.toContain('10.0.0.9');
      const broken = await h2.call('GET', '/api/v1/broken', { token: h2.tokens.unbound['read-only'] });
      expect(broken.status).toBe(500);
      expect(broken.json.code).toBe('PP_INTERNAL');
      expect(broken.text).not.toContain('nom');
    } finally {
      await h2.close();
    }
  });
});
