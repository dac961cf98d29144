// `polyprov explain` run as a person runs it: ./bin/polyprov as a child process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));
const TREE = 'test/fixtures/trees/basic';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('polyprov explain', () => {
  test('issue 3, explain --json: exactly one object of the documented shape, secrets masked', async () => {
    const { code, stdout } = await run(['explain', TREE, '--mac', '00:04:F2:00:00:01', '--model', 'SPIP_650', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(Object.keys(j)).toEqual(['master', 'application', 'configFiles', 'directories', 'directory', 'uploads', 'params']);
    expect(j.master).toEqual({ file: '000000000000.cfg', reason: expect.any(String) });
    expect(j.application).toBe('2345-12600-001.sip.ld');
    expect(j.configFiles[0]).toEqual({ name: '0004f2000001-user.cfg', found: true });
    expect(j.directories).toEqual({ logs: 'logs', overrides: 'overrides', contacts: 'contacts', licenses: 'licenses' });
    expect(j.directory).toBe('contacts/0004f2000001-directory.xml');
    for (const [name, p] of Object.entries<Record<string, unknown>>(j.params)) {
      expect(Object.keys(p).filter((k) => k !== 'reason'), name).toEqual(['value', 'source', 'shadowed', 'applied']);
      expect(Object.keys(p.source as object)).toEqual(['file', 'line']);
    }
    expect(j.params['reg.1.auth.password'].value).toBe('********');
    expect(j.params['tcpIpApp.sntp.address'].source).toEqual({ file: 'overrides/0004f2000001-phone.cfg', line: 3 });
    expect(j.params['device.sntp.serverName'].applied).toBe(false);
    expect(stdout).not.toMatch(/sitewide-secret|s3cretPass/);
  });

  test('--show-secrets prints the password; --param narrows to one parameter', async () => {
    const { code, stdout } = await run(['explain', TREE, '--mac', '0004f2000001', '--model', 'SPIP650', '--json', '--show-secrets', '--param', 'reg.1.auth.password']);
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(Object.keys(j.params)).toEqual(['reg.1.auth.password']);
    expect(j.params['reg.1.auth.password'].value).toBe(`p&ss"w<rd'>`);
  });

  test('readable table by default, secrets masked, URL credentials hidden', async () => {
    const { code, stdout } = await run(['explain', TREE, '--mac', '0004f2000001', '--model', 'SPIP650']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/master file\s+000000000000\.cfg/);
    expect(stdout).toMatch(/tcpIpApp\.sntp\.address\s+"keypad\.ntp\.example\.com"\s+overrides\/0004f2000001-phone\.cfg:3/);
    expect(stdout).toContain('ftp://prov:***@192.0.2.10/extra.cfg');
    expect(stdout).toMatch(/secure\.cfg\s+\(encrypted/);
    expect(stdout).not.toMatch(/sitewide-secret|s3cretPass/);
  });

  test('--param for a parameter the phone does not get exits 1', async () => {
    const { code, stderr } = await run(['explain', TREE, '--mac', '0004f2000001', '--param', 'no.such.param']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no\.such\.param is not set/);
  });

  test('a bad MAC or model is a usage error (exit 2) with a clear message', async () => {
    const mac = await run(['explain', TREE, '--mac', '0004f20000']);
    expect(mac.code).toBe(2);
    expect(mac.stderr).toMatch(/--mac "0004f20000" is not a MAC address/);
    const model = await run(['explain', TREE, '--mac', '0004f2000001', '--model', 'SPIP999']);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/--model "SPIP999" is not a known model/);
    const root = await run(['explain', 'no/such/dir', '--mac', '0004f2000001']);
    expect(root.code).toBe(2);
  });
});
