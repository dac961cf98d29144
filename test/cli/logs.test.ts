// `polyprov logs MAC` (issue 13 item 22): a phone's uploaded <MAC>-boot.log and <MAC>-app.log
// (white paper, Master Configuration File: LOG_FILE_DIRECTORY), which the boot server keeps in
// its store as one rolling log per phone and kind, read back through the admin service.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree, tempDir } from '../support/tree.ts';
import { BIN, polyprov } from './run-cli.ts';

let srv: TestServer;
let data: string;
const put = async (name: string, body: string) => expect((await req(`${srv.url}/logs/${name}`, { method: 'PUT', body })).status).toBeLessThan(300);

beforeAll(async () => {
  data = tempDir();
  srv = await startTestServer(standardTree(), { policy: 'open', data });
  await put(`${MAC1}-boot.log`, '0101000000|boot|1|bootROM 4.1.0 starting\n');
  await put(`${MAC1}-app.log`, '0101000001|app|1|application 3.2.3 up\n');
});
afterAll(async () => srv.close());

describe('polyprov logs (issue 13 item 22)', () => {
  test('prints both logs with a header each; --kind app prints that log alone; --json carries the text', async () => {
    const both = await polyprov(['logs', MAC1, '--data', data]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(new RegExp(`==> logs/${MAC1}-app\\.log \\(app log, version 1, \\d+ bytes, stored \\S+ from 127\\.0\\.0\\.1\\) <==\\n0101000001\\|app\\|1\\|application 3\\.2\\.3 up\\n`));
    expect(both.stdout).toContain(`==> logs/${MAC1}-boot.log (boot log`);
    expect(both.stdout).toContain('bootROM 4.1.0 starting');
    const app = await polyprov(['logs', '00:04:F2:00:00:01', '--kind', 'app', '--data', data]);
    expect(app.stdout).toBe('0101000001|app|1|application 3.2.3 up\n');
    const json = JSON.parse((await polyprov(['logs', MAC1, '--kind', 'boot', '--json', '--data', data])).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ kind: 'boot', path: `logs/${MAC1}-boot.log`, version: 1, address: '127.0.0.1', text: '0101000000|boot|1|bootROM 4.1.0 starting\n' })]);
  }, 60_000);

  test('a phone with no stored log exits 1 and says so; a bad --kind is a usage error', async () => {
    const none = await polyprov(['logs', MAC2, '--data', data]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no log stored for ${MAC2}`);
    expect((await polyprov(['logs', MAC1, '--kind', 'web', '--data', data])).code).toBe(2);
  }, 60_000);

  test('--follow prints what the phone appends next (log uploads are appended, rolling)', async () => {
    const child = spawn(process.execPath, [BIN, 'logs', MAC1, '--kind', 'app', '--follow', '--interval-ms', '100', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const until = async (what: string) => {
      const end = Date.now() + 30_000;
      while (!out.includes(what) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(what);
    };
    try {
      await until('application 3.2.3 up\n');
      await put(`${MAC1}-app.log`, '0101000002|sip|2|registered line 1\n');
      await until('registered line 1\n');
      expect(out).toBe('0101000001|app|1|application 3.2.3 up\n0101000002|sip|2|registered line 1\n');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
