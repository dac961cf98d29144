// `polyprov explain` run as a person runs it: ./bin/polyprov as a child process.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { startTestServer } from '../support/server.ts';

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
    expect(Object.keys(j)).toEqual(['master', 'application', 'configFiles', 'directories', 'directory', 'uploads', 'stored', 'notes', 'params']);
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

describe('polyprov explain with the stored uploads (issue 13 items 2 and 3)', () => {
  let tree: string;
  let data: string;
  let config: string;
  const MAC = '0004f2000001';
  const upload = '<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES reg.1.label="Front desk" device.sntp.serverName="evil.example"/></PHONE_CONFIG>\n';

  beforeAll(async () => {
    tree = mkdtempSync(join(tmpdir(), 'polyprov-explain-tree-'));
    cpSync(join(REPO, TREE), tree, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'polyprov-explain-data-'));
    // The server's options file, read by explain as by every state command (--config).
    config = join(data, 'polyprov.json');
    writeFileSync(config, JSON.stringify({ data, lockedParams: ['device.*'] }));
    // A phone uploads its override (the user set reg.1.label on the keypad) to a real server.
    const srv = await startTestServer(tree, { data, policy: 'open', lockedParams: ['device.*'] });
    try {
      const put = await req(`${srv.url}/overrides/${MAC}-phone.cfg`, { method: 'PUT', body: upload });
      expect(put.status).toBeLessThan(300);
    } finally {
      await srv.close();
    }
  });
  afterAll(() => {
    rmSync(tree, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  test('white paper, Default Configuration Parameter Values: the stored <MAC>-phone.cfg is the top source, named as the upload; locked parameters show as stripped', async () => {
    const { code, stdout } = await run(['explain', tree, '--mac', MAC, '--model', 'SPIP650', '--json', '--config', config]);
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(j.notes).toEqual([]);
    expect(j.params['reg.1.label'].value).toBe('Front desk');
    expect(j.params['reg.1.label'].source.upload).toMatch(new RegExp(`^upload ${MAC}-phone\\.cfg, stored \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z from 127\\.0\\.0\\.1$`));
    // The tree's own override file is shadowed by the upload, not merged with it.
    expect(j.params['tcpIpApp.sntp.address']?.source.file).not.toBe(`overrides/${MAC}-phone.cfg`);
    const [stored] = j.stored;
    expect(stored).toMatchObject({ kind: 'override-phone', path: `overrides/${MAC}-phone.cfg`, served: true, stripped: ['device.sntp.serverName'], address: '127.0.0.1' });
    expect(j.params['device.sntp.serverName']?.value).not.toBe('evil.example');
    const text = await run(['explain', tree, '--mac', MAC, '--model', 'SPIP650', '--config', config]);
    expect(text.stdout).toMatch(/reg\.1\.label\s+"Front desk"\s+upload 0004f2000001-phone\.cfg, stored \S+ from 127\.0\.0\.1/);
    expect(text.stdout).toMatch(/stripped \(lockedParams, not served to the phone\): device\.sntp\.serverName/);
  });

  test('item 3: an edit of the tree file after the upload is what the phone gets, and explain says why', async () => {
    const file = join(tree, 'overrides', `${MAC}-phone.cfg`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('keypad.ntp.example.com', 'edited.ntp.example.com'));
    const { stdout } = await run(['explain', tree, '--mac', MAC, '--model', 'SPIP650', '--json', '--config', config]);
    const j = JSON.parse(stdout);
    expect(j.stored[0]).toMatchObject({ served: false, why: expect.stringContaining('edited after this upload') });
    expect(j.params['reg.1.label']).toMatchObject({ value: 'Alice Müller', source: { file: `${MAC}-user.cfg` } }); // the keypad label is no longer served
    expect(j.params['tcpIpApp.sntp.address']).toMatchObject({ value: 'edited.ntp.example.com', source: { file: `overrides/${MAC}-phone.cfg` } });
  });

  test('issue 13 item 21: without a store explain notes "no stored uploads included" and still works on the tree alone', async () => {
    const none = join(data, 'no-such-state');
    const { code, stdout } = await run(['explain', TREE, '--mac', MAC, '--json', '--data', none]);
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(j.stored).toBeNull();
    expect(j.notes[0]).toMatch(/^no stored uploads included/);
    expect(j.params['tcpIpApp.sntp.address'].source.file).toBe(`overrides/${MAC}-phone.cfg`);
    expect(existsSync(none)).toBe(false); // nothing was created
  });
});
