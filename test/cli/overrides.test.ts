// `polyprov overrides` and `polyprov staging` against the state a running server writes.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, standardTree, tempDir } from '../support/tree.ts';

const bin = join(import.meta.dirname, '../../bin/polyprov');
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, env: { ...process.env, POLYPROV_CONFIG: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let srv: TestServer;
let root: string;
let data: string;
beforeAll(async () => {
  root = standardTree();
  data = tempDir();
  srv = await startTestServer(root, { policy: 'open', data });
  const body = '<PHONE_CONFIG><OVERRIDES tcpIpApp.sntp.address="10.9.9.9" up.backlight.idleIntensity="2" reg.1.auth.password="override-canary"/></PHONE_CONFIG>';
  expect((await req(`${srv.url}/overrides/${MAC1}-phone.cfg`, { method: 'PUT', body })).status).toBe(201);
  await srv.core.audit.flush();
});
afterAll(async () => srv.close());

describe('overrides (issue 4, Override policy)', () => {
  test('diff shows each overridden parameter against the file and line of the server view', async () => {
    const r = await run(['overrides', 'diff', MAC1, '--data', data, '--root', root, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(1); // differences found
    const out = JSON.parse(r.stdout) as { differences: Array<{ name: string; phone: string; server: string | null; source: string | null }> };
    const sntp = out.differences.find((d) => d.name === 'tcpIpApp.sntp.address')!;
    expect(sntp).toMatchObject({ phone: '10.9.9.9', server: 'pool.ntp.org', source: 'site.cfg:1' });
    expect(out.differences.find((d) => d.name === 'up.backlight.idleIntensity')?.server).toBeNull();
  });

  test('white paper, Resetting Parameters to Defaults: clear stores an empty -phone.cfg that the phone reads back', async () => {
    const r = await run(['overrides', 'clear', MAC1, '--kind', 'phone', '--data', data, '--root', root]);
    expect(r.code).toBe(0);
    const served = (await req(`${srv.url}/overrides/${MAC1}-phone.cfg`)).body.toString();
    expect(served).not.toContain('tcpIpApp.sntp.address');
    expect(served).toMatch(/<polycomConfig>\s*<\/polycomConfig>/);
    const list = await run(['overrides', 'list', '--data', data, '--json']);
    const rows = JSON.parse(list.stdout) as Array<{ mac: string; version: number }>;
    expect(rows.find((x) => x.mac === MAC1)?.version).toBe(2);
  });

  test('issue 12, Administration through the core: clear is in the change record with the parameters it removed, secrets masked', async () => {
    const r = await run(['changes', '--target', MAC1, '--json', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    const [c] = JSON.parse(r.stdout) as Array<{ operation: string; old: { path: string; version: number; params: Array<{ name: string; value: string }> }; new: { params: unknown[] } }>;
    expect(c).toMatchObject({ operation: 'overrides.clear', old: { path: `overrides/${MAC1}-phone.cfg`, version: 1 }, new: { params: [] } });
    expect(c!.old.params).toEqual([
      { name: 'tcpIpApp.sntp.address', value: '10.9.9.9' },
      { name: 'up.backlight.idleIntensity', value: '2' },
      { name: 'reg.1.auth.password', value: '********' },
    ]);
    expect(r.stdout).not.toContain('override-canary');
  });

  test('a bad MAC is a usage error (exit 2)', async () => {
    expect((await run(['overrides', 'show', 'nope', '--data', data])).code).toBe(2);
  });
});

describe('staging switch', () => {
  test('staging on|off is stored where every server node reads it', async () => {
    expect((await run(['staging', 'on', '--data', data, '--json'])).stdout).toContain('"staging": true');
    expect(await srv.store.settings.get('staging')).toBe('on');
    expect((await run(['staging', 'off', '--data', data, '--json'])).stdout).toContain('"staging": false');
    expect((await run(['staging', 'maybe', '--data', data])).code).toBe(2);
  });
});
