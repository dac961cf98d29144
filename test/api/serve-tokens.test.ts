// `polyprov tokens add|list|revoke` and `serve --admin … --admin-cert/--admin-key` together
// (issue 15 "Who may do what", "Shape"): a token made by the CLI on serve's data directory opens
// the REST API of the running server over HTTPS; the token is printed once and stored hashed;
// revoked, it stops working at once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeCertificate } from '../support/certs.ts';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree, tempDir } from '../support/tree.ts';
import { polyprov } from '../cli/run-cli.ts';

let s: TestServer;
let data: string;
let adminUrl: string;
beforeAll(async () => {
  data = tempDir();
  const dir = tempDir('polyprov-admin-tls-');
  writeCertificate(join(dir, 'admin.crt'), join(dir, 'admin.key'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] });
  s = await startTestServer(standardTree(), { data, admin: '127.0.0.1:0', adminCert: join(dir, 'admin.crt'), adminKey: join(dir, 'admin.key'), apiAuthFailuresPerMinute: 3 });
  const a = s.listening.find((l) => l.transport === 'admin')!;
  adminUrl = `https://127.0.0.1:${a.port}`;
}, 60_000);
afterAll(async () => s?.close());

describe('issue 15 Who may do what: tokens from the CLI, the API over HTTPS', () => {
  test('tokens add prints the token once on stdout; list never shows it; the API answers it over HTTPS; revoke ends it', async () => {
    const add = await polyprov(['tokens', 'add', 'ops', '--role', 'operator', '--data', data]);
    expect(add.code, add.stderr).toBe(0);
    const token = add.stdout.trim();
    expect(token).toMatch(/^ppt_[A-Za-z0-9_-]{43}$/);
    expect(add.stderr).toContain('shown only this once');
    expect(add.stderr).not.toContain(token);

    // Stored hashed: the token is nowhere in the data directory. Read by a child process: opening
    // and closing the database file in this process would drop the server's SQLite POSIX locks.
    const grep = spawnSync('grep', ['-rqF', token, data]);
    expect(grep.status).toBe(1);

    const list = await polyprov(['tokens', 'list', '--json', '--data', data]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'ops', role: 'operator' })]);
    expect(list.stdout).not.toContain(token);
    expect(list.stdout).not.toContain('hash');

    const ok = await req(`${adminUrl}/api/v1/staging`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString())).toMatchObject({ tenant: 'default', on: false });
    expect((await req(`${adminUrl}/healthz`)).body.toString()).toBe('ok\n');
    expect((await req(`${adminUrl}/metrics`)).status).toBe(200);
    // An operator may not touch tokens.
    expect((await req(`${adminUrl}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);

    const dup = await polyprov(['tokens', 'add', 'ops', '--role', 'admin', '--data', data]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('PP_API_TOKEN_EXISTS');

    const revoke = await polyprov(['tokens', 'revoke', 'ops', '--data', data]);
    expect(revoke.code).toBe(0);
    expect((await req(`${adminUrl}/api/v1/staging`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const again = await polyprov(['tokens', 'revoke', 'ops', '--json', '--data', data]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toEqual({ name: 'ops', revoked: false });

    const changes = await polyprov(['changes', '--json', '--data', data]);
    expect(changes.stdout).toContain('tokens.add');
    expect(changes.stdout).toContain('tokens.revoke');
    expect(changes.stdout).not.toContain(token);
  });

  test('tokens add needs --role; a bad role is a usage error (exit 2)', async () => {
    expect((await polyprov(['tokens', 'add', 'x', '--data', data])).code).toBe(2);
    expect((await polyprov(['tokens', 'add', 'x', '--role', 'root', '--data', data])).code).toBe(2);
  });

  test('serve refuses --admin-cert without --admin-key (PP_OPT_INVALID)', async () => {
    const r = await polyprov(['serve', '--root', standardTree(), '--data', tempDir(), '--admin', '127.0.0.1:0', '--admin-cert', 'x.crt']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('PP_OPT_INVALID');
    expect(r.stderr).toContain('adminKey');
  });

  test('the option apiAuthFailuresPerMinute sets how many failures an address gets before 429', async () => {
    // The first test failed once (the revoked token): at most 3 more requests reach the limit.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await req(`${adminUrl}/api/v1/staging`, { headers: { authorization: `Bearer ppt_${'C'.repeat(43)}` } })).status);
    expect(statuses[0]).toBe(401);
    expect(statuses).toContain(429);
    expect(s.logs.some((l) => l.includes('"msg":"refused PP_AUTH_FAILED from 127.0.0.1"'))).toBe(true);
  });
});
