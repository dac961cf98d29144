// Issue 15 "Resources": `GET /phones/:mac/explain` answers the same JSON as `polyprov explain
// --json` (with the managed scopes). The whole server runs in-process on a SQLite data directory;
// the phone and its settings are made through the API; the CLI is then run as a child process
// against the same tree and data directory, and the two objects must be equal. Secrets masked.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../phone/serve-child.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { makeTree, tempDir } from '../support/tree.ts';

const MAC = '0004f2e00001';
const SECRET = 'explain-secret-5521';
let server: TestServer;
let root: string;
let data: string;
let api: string;
let token: string;
const bodies: string[] = [];

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(api + path, { method, headers: { authorization: `Bearer ${token}`, ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  bodies.push(text);
  return { status: r.status, json: text ? JSON.parse(text) : undefined, headers: r.headers };
}

beforeAll(async () => {
  root = makeTree({
    '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, phone.cfg" OVERRIDES_DIRECTORY="overrides"/>',
    'phone.cfg': '<polycomConfig reg.1.address="1000" reg.1.label="From the tree"/>',
    'overrides/.keep': '',
  });
  data = tempDir();
  server = await startTestServer(root, { admin: '127.0.0.1:0', policy: 'open', data });
  api = `http://127.0.0.1:${server.listening.find((l) => l.transport === 'admin')!.port}/api/v1`;
  token = (await server.admin.tokens.add('explainer', 'admin')).token;
  expect((await call('POST', '/tenants/default/sites', { name: 'hq' })).status).toBe(201);
  expect((await call('PUT', `/phones/${MAC}`, { model: 'VVX410', site: 'hq', settings: { 'reg.1.auth.password': SECRET } })).status).toBe(201);
  const etag = (await call('GET', '/settings/site:hq')).headers.get('etag')!;
  expect((await call('PATCH', '/settings/site:hq', { settings: { 'reg.1.address': '4001' } }, { 'if-match': etag })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const b of bodies) expect(b).not.toContain(SECRET);
});

describe('issue 15 Resources: /phones/:mac/explain', () => {
  test('the same JSON as polyprov explain --json, with the managed scope of each parameter and secrets masked', async () => {
    const r = await call('GET', `/phones/${MAC}/explain`);
    expect(r.status).toBe(200);
    expect(r.json.params['reg.1.address']).toMatchObject({ value: '4001', scope: 'site:hq' });
    expect(r.json.params['reg.1.address'].shadowed).toEqual(expect.arrayContaining([expect.objectContaining({ value: '1000' })]));
    expect(r.json.params['reg.1.auth.password']).toMatchObject({ value: '********', scope: `phone:${MAC}` });
    expect(r.json.params['reg.1.label'].value).toBe('From the tree');
    expect(r.json.managed).toMatchObject({ tenant: 'default', managed: true, listed: true });
    const cli = await runCli(['explain', root, '--mac', MAC, '--model', 'VVX410', '--data', data, '--json'], undefined, 60_000);
    expect(cli.code, cli.stderr).toBe(0);
    expect(r.json).toEqual(JSON.parse(cli.stdout));
  }, 90_000);

  test('bad input: an unknown model, a master outside the tree, a malformed or unknown MAC', async () => {
    expect((await call('GET', `/phones/${MAC}/explain?model=VVX9999`)).status).toBe(400);
    expect((await call('GET', `/phones/${MAC}/explain?master=../etc/`)).status).toBe(400);
    expect((await call('GET', `/phones/${MAC}/explain?verbose=1`)).status).toBe(400);
    expect((await call('GET', '/phones/0004f2/explain')).status).toBe(400);
    expect((await call('GET', '/phones/0004f2e0ffff/explain')).status).toBe(404);
  });
});
