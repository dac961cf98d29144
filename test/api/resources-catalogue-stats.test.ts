// Issue 15 "Resources": the parameter catalogue (names, types, ranges, descriptions; filter by
// prefix; paginated) and the dashboard figures (counts by model, version and health; a time
// series of requests and refusals, read from the audit) — over a real HTTP client, bad input
// per route.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PARAMS } from '../../src/config/params.ts';
import type { Mac } from '../../src/domain.ts';
import { startApi, type ApiHarness } from './resources-harness.ts';

let h: ApiHarness;
const HOUR = 3600_000;
const base = new Date(Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR); // an hour boundary, 3 h ago

beforeAll(async () => {
  h = await startApi();
  const s = h.store;
  const old = new Date(Date.now() - 10 * 24 * HOUR);
  await s.phones.recordSighting({ mac: '0004f2000001' as Mac, at: base, source: 'http', address: '10.0.0.1', model: 'VVX410', appVersion: '6.4.0.1' });
  await s.phones.recordSighting({ mac: '0004f2000002' as Mac, at: base, source: 'http', address: '10.0.0.2', model: 'VVX410', appVersion: '6.4.0.2', error: 'PP_UPLOAD_TOO_LARGE x' });
  await s.phones.recordSighting({ mac: '0004f2000003' as Mac, at: old, source: 'tftp', address: '10.0.0.3', model: 'VVX310', appVersion: '6.4.0.1' });
  const ev = (at: number, code?: string) => ({ at: new Date(base.getTime() + at), mac: '0004f2000001' as Mac, address: '10.0.0.1', transport: 'http' as const, op: 'read', path: 'site.cfg', status: code ?? '200', bytes: 1, durationMs: 1, ...(code ? { code } : {}) });
  await s.audit.append([ev(0), ev(60_000), ev(120_000, 'PP_NOT_FOUND'), ev(HOUR + 1), ev(HOUR + 2, 'PP_AUTH_FAILED'), ev(HOUR + 3, 'PP_AUTH_FAILED')]);
});
afterAll(() => h.close());

describe('issue 15 Resources: /catalogue/parameters', () => {
  test('entries carry name, type, range or values and description; a prefix filters case-insensitively', async () => {
    const r = await h.call('GET', '/catalogue/parameters?prefix=REG.X.AUTH.&limit=500', { token: h.tokens['read-only'] });
    expect(r.status).toBe(200);
    const names = r.json.items.map((p: { name: string }) => p.name);
    expect(names).toContain('reg.x.auth.password');
    expect(names.every((n: string) => n.startsWith('reg.x.auth.'))).toBe(true);
    const pw = r.json.items.find((p: { name: string }) => p.name === 'reg.x.auth.password');
    expect(pw).toMatchObject({ type: 'string', secret: true });
    expect(pw.default).toBeUndefined();
    const withRange = PARAMS.find((p) => p.min !== undefined && p.max !== undefined && !p.secret)!;
    const one = await h.call('GET', `/catalogue/parameters/${withRange.name}`);
    expect(one.json).toMatchObject({ name: withRange.name, min: withRange.min, max: withRange.max, description: withRange.description });
  });

  test('a concrete name resolves to its pattern (reg.3.auth.password); an unknown name is 404', async () => {
    expect((await h.call('GET', '/catalogue/parameters/reg.3.auth.password')).json.name).toBe('reg.x.auth.password');
    expect((await h.call('GET', '/catalogue/parameters/no.such.param')).status).toBe(404);
  });

  test('pages through the whole catalogue by cursor: every name once, in order, bounded', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/catalogue/parameters?limit=500';
    for (let i = 0; path && i < 100; i++) {
      const r = await h.call('GET', path);
      expect(r.status).toBe(200);
      seen.push(...r.json.items.map((p: { name: string }) => p.name));
      path = r.json.next?.replace('/api/v1', '');
    }
    expect(path).toBeUndefined();
    expect(seen).toHaveLength(PARAMS.length);
    expect(new Set(seen).size).toBe(PARAMS.length);
    expect([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seen);
  });

  test.each(['limit=501', 'type=colour', 'secret=maybe', 'prefix=' + 'x'.repeat(201), 'foo=1'])('bad query ?%s is 400', async (q) => {
    const r = await h.call('GET', `/catalogue/parameters?${q}`);
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('PP_API_INVALID');
  });
});

describe('issue 15 Resources: /stats', () => {
  test('counts the phones seen by model, application version and health (error: last request failed; stale: unseen 7 days)', async () => {
    const r = await h.call('GET', '/stats', { token: h.tokens['read-only'] });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ phones: 3, byModel: { VVX410: 2, VVX310: 1 }, byVersion: { '6.4.0.1': 2, '6.4.0.2': 1 }, byHealth: { ok: 1, error: 1, stale: 1 } });
  });

  test('a tenant-bound token counts only its tenant (acme has none of these phones)', async () => {
    const r = await h.call('GET', '/stats', { token: h.tokens.acme });
    expect(r.json).toMatchObject({ phones: 0, byHealth: { ok: 0, error: 0, stale: 0 } });
  });

  test('/stats/requests: requests and refusals per bucket from the audit, refusals by code', async () => {
    const since = base.toISOString();
    const until = new Date(base.getTime() + 2 * HOUR).toISOString();
    const r = await h.call('GET', `/stats/requests?since=${since}&until=${until}&bucket=3600`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ source: 'audit', bucketSeconds: 3600, truncated: false });
    expect(r.json.buckets).toEqual([
      { start: since, requests: 3, refusals: 1, byCode: { PP_NOT_FOUND: 1 } },
      { start: new Date(base.getTime() + HOUR).toISOString(), requests: 3, refusals: 2, byCode: { PP_AUTH_FAILED: 2 } },
    ]);
    const fine = await h.call('GET', `/stats/requests?since=${since}&until=${new Date(base.getTime() + 180_000).toISOString()}&bucket=60`);
    expect(fine.json.buckets.map((b: { requests: number }) => b.requests)).toEqual([1, 1, 1]);
    const acme = await h.call('GET', `/stats/requests?since=${since}&until=${until}`, { token: h.tokens.acme });
    expect(acme.json.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(0);
  });

  test.each(['since=yesterday', 'bucket=0', 'bucket=x', 'until=2020-01-01T00:00:00Z&since=2021-01-01T00:00:00Z', 'step=5'])('bad query ?%s is 400', async (q) => {
    const r = await h.call('GET', `/stats/requests?${q}`);
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('PP_API_INVALID');
  });
});
