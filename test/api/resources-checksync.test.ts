// Issue 15 "Resources" and "Tests": a check-sync job against virtual phones (`phone run`,
// src/phone) that come back. The whole server runs in-process (boot server on HTTP, the admin
// listener with the REST API); two virtual phones boot from it and listen for SIP on loopback.
// POST /checksync sends each a paced NOTIFY from the server; GET /checksync/:id shows them sent,
// then returned once each re-read its configuration (from the audit). A MAC the inventory does
// not know fails with the reason; a tenant-bound token sees none of it; bad bodies are 400.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkSyncRunOptions } from '../../src/api/routes/checksync.ts';
import type { Mac } from '../../src/domain.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { VirtualPhone } from '../../src/phone/run.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { makeTree } from '../support/tree.ts';

const MACS = ['0004f2000101', '0004f2000102'] as Mac[];
const UNKNOWN = '0004f2000199' as Mac;
const LINE_SECRET = 'line-pass-31337';

let server: TestServer;
let api: string;
const tokens: Record<string, string> = {};
const phones: VirtualPhone[] = [];
const bodies: string[] = [];

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(api + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  bodies.push(text);
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
}

beforeAll(async () => {
  const root = makeTree({
    '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="phone.cfg, site.cfg" CONTACTS_DIRECTORY=""/>',
    'phone.cfg': `<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="${LINE_SECRET}"/>`,
    'site.cfg': '<polycomConfig voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>',
    'sip.ld': makeImage('4.0.15.1009', 512),
  });
  server = await startTestServer(root, { admin: '127.0.0.1:0', policy: 'open' });
  const admin = server.listening.find((l) => l.transport === 'admin')!;
  api = `http://127.0.0.1:${admin.port}/api/v1`;
  tokens.operator = (await server.admin.tokens.add('ops', 'operator')).token;
  tokens.reader = (await server.admin.tokens.add('reader', 'read-only')).token;
  tokens.acme = (await server.admin.tokens.add('acme-ops', 'operator', 'acme')).token;
  Object.assign(checkSyncRunOptions, { t1Ms: 100, returnTimeoutMs: 15_000, pollMs: 100, jitterMs: 0 });
  for (const mac of MACS) {
    const phone = new VirtualPhone({
      server: parseServerAddress(server.url),
      profile: { mac, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '4.0.15.1009' },
      state: new MemoryState(),
      settings: { tries: 1, retryWaitSec: 0 },
      makeClient: clientFactory({ timeoutMs: 2000 }),
      sip: '127.0.0.1:0',
    });
    await phone.start();
    phones.push(phone);
    // Where the phone listens for SIP, as the inventory learns it from the phone's SIP traffic.
    await server.admin.inventory.recordSighting({ mac, at: new Date(), source: 'sip', address: '127.0.0.1', sipPort: phone.sipPort! });
  }
}, 60_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  Object.assign(checkSyncRunOptions, { t1Ms: undefined, returnTimeoutMs: undefined, pollMs: undefined, jitterMs: undefined });
  await server?.close();
  for (const b of bodies) expect(b).not.toContain(LINE_SECRET);
});

describe('issue 15 Resources: check-sync jobs', () => {
  test('POST /checksync {macs} answers 202 with the job; GET shows each phone sent, then returned after it re-read its configuration; an unknown MAC fails with the reason', async () => {
    const before = phones.map((p) => p.records.length);
    const r = await call('POST', '/checksync', tokens.operator!, { targets: { macs: [...MACS.map((m) => m.toUpperCase()), UNKNOWN] } });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/api/v1/checksync/${r.json.id}`);
    expect(r.json).toMatchObject({ who: 'ops', done: false, summary: { pending: 3, sent: 0, failed: 0, returned: 0 } });
    expect(r.json.targets.map((t: { mac: string }) => t.mac)).toEqual([...MACS, UNKNOWN]);

    let job = r.json;
    for (let i = 0; i < 200 && !job.done; i++) {
      await new Promise((res) => setTimeout(res, 100));
      job = (await call('GET', `/checksync/${r.json.id}`, tokens.reader!)).json;
    }
    expect(job.done).toBe(true);
    const byMac = Object.fromEntries(job.targets.map((t: { mac: string }) => [t.mac, t]));
    for (const mac of MACS) {
      expect(byMac[mac]).toMatchObject({ status: 'returned', returned: true });
      expect(byMac[mac].detail).toMatch(/^200 /);
    }
    expect(byMac[UNKNOWN]).toMatchObject({ status: 'failed', returned: false });
    expect(byMac[UNKNOWN].detail).toMatch(/not in the inventory/);
    expect(job.summary).toEqual({ pending: 0, sent: 0, failed: 1, returned: 2 });
    // The phones really were asked: each runs a check-sync pass against the server (the job may
    // see the first read before the pass has finished, so wait for it, bounded).
    for (const [i, p] of phones.entries()) {
      for (let n = 0; n < 100 && !p.records.slice(before[i]).some((rec) => rec.kind === 'check-sync'); n++) await new Promise((res) => setTimeout(res, 50));
      expect(p.records.slice(before[i]).some((rec) => rec.kind === 'check-sync')).toBe(true);
    }
    // Kept in the store, listed newest first, and in the change record with the token's name.
    expect((await call('GET', '/checksync', tokens.reader!)).json.items[0].id).toBe(r.json.id);
    expect((await server.admin.changes({ limit: 20 })).some((c) => c.operation === 'checksync.create' && c.who === 'ops' && c.target === r.json.id)).toBe(true);
  }, 40_000);

  test('POST /checksync {all: true} targets every phone in the inventory', async () => {
    const r = await call('POST', '/checksync', tokens.operator!, { targets: { all: true } });
    expect(r.status).toBe(202);
    expect(r.json.targets.map((t: { mac: string }) => t.mac)).toEqual(MACS);
  });

  test('POST /checksync {scope: "site:hq"} targets the managed phones of that site; a scope with no phones is 422, an unknown site 404', async () => {
    const admin = (await server.admin.tokens.add('fleet-admin', 'admin')).token;
    expect((await call('POST', '/tenants/default/sites', admin, { name: 'hq' })).status).toBe(201);
    expect((await call('PUT', `/phones/${MACS[1]}`, admin, { site: 'hq', model: 'VVX410' })).status).toBe(201);
    const r = await call('POST', '/checksync', tokens.operator!, { targets: { scope: 'site:hq' } });
    expect(r.status).toBe(202);
    expect(r.json.targets.map((t: { mac: string }) => t.mac)).toEqual([MACS[1]]);
    expect((await call('POST', '/tenants/default/sites', admin, { name: 'empty' })).status).toBe(201);
    expect((await call('POST', '/checksync', tokens.operator!, { targets: { scope: 'site:empty' } })).status).toBe(422);
    expect((await call('POST', '/checksync', tokens.operator!, { targets: { scope: 'site:nowhere' } })).status).toBe(404);
    expect((await call('POST', '/checksync', tokens.acme!, { targets: { scope: 'site:default/hq' } })).status).toBe(404);
  });

  test('a read-only token may not start a job (403); a token of tenant acme sees neither the phones (404) nor the jobs', async () => {
    expect((await call('POST', '/checksync', tokens.reader!, { targets: { all: true } })).status).toBe(403);
    const other = await call('POST', '/checksync', tokens.acme!, { targets: { macs: [MACS[0]] } });
    expect(other.status).toBe(404);
    expect(other.json.pointer).toBe('/targets/macs/0');
    expect((await call('POST', '/checksync', tokens.acme!, { targets: { all: true } })).status).toBe(422);
    const mine = (await call('GET', '/checksync', tokens.operator!)).json.items[0].id;
    expect((await call('GET', `/checksync/${mine}`, tokens.acme!)).status).toBe(404);
    expect((await call('GET', '/checksync', tokens.acme!)).json.items).toEqual([]);
  });

  test.each([
    [{}, '/targets'],
    [{ targets: {} }, '/targets'],
    [{ targets: { macs: [] } }, '/targets/macs'],
    [{ targets: { macs: ['not-a-mac'] } }, '/targets/macs/0'],
    [{ targets: { all: false } }, '/targets/all'],
    [{ targets: { all: true }, now: true }, '/now'],
    [{ targets: { scope: 'street:x' } }, '/targets/scope'],
  ])('bad body %j is a 400 naming %s', async (body, pointer) => {
    const r = await call('POST', '/checksync', tokens.operator!, body);
    expect(r.status).toBe(400);
    expect(r.json.pointer).toBe(pointer);
  });

  test('an unknown or malformed job id: 404 / 400', async () => {
    expect((await call('GET', '/checksync/00000000-0000-4000-8000-000000000000', tokens.reader!)).status).toBe(404);
    expect((await call('GET', '/checksync/42', tokens.reader!)).status).toBe(400);
  });
});
