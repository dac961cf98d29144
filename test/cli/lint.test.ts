// `polyprov lint` and `polyprov init` run as an administrator runs them: ./bin/polyprov as a child process.
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { polyprov } from './run-cli.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'polyprov-lint-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function tree(name: string, files: Record<string, string>): Promise<string> {
  const root = join(tmp, name);
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(root, ...p.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(root, ...p.split('/')), c);
  }
  return root;
}

const MASTER = '<?xml version="1.0"?>\n<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg, extra.cfg"/>\n';
const SITE = '<?xml version="1.0"?>\n<polycomConfig>\n  <x httpd.cfg.enabled="0" reg.1.auth.pasword="x"/>\n</polycomConfig>\n';

describe('polyprov lint (issue 3, The linter)', () => {
  test('compiler-style lines file:line:col: severity CODE message, a summary, exit 1 on errors', async () => {
    const root = await tree('errors', { '000000000000.cfg': MASTER, 'site.cfg': SITE });
    const r = await polyprov(['lint', root]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^000000000000\.cfg:2:\d+: error PP_CFG_FILE_MISSING .*extra\.cfg/));
    expect(lines).toContainEqual(expect.stringMatching(/^site\.cfg:3:\d+: warning PP_PARAM_UNKNOWN reg\.1\.auth\.pasword .*Did you mean reg\.1\.auth\.password\?/));
    expect(lines[lines.length - 1]).toBe('1 error, 1 warning, 0 info');
  });

  test('--json prints one array of {severity, code, file, line, column, message}', async () => {
    const root = await tree('json', { '000000000000.cfg': MASTER, 'site.cfg': SITE });
    const r = await polyprov(['lint', root, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(Array.isArray(j)).toBe(true);
    expect(j).toHaveLength(2);
    for (const f of j) expect(Object.keys(f)).toEqual(['severity', 'code', 'file', 'line', 'column', 'message']);
    expect(j.map((f) => f.code)).toEqual(['PP_CFG_FILE_MISSING', 'PP_PARAM_UNKNOWN']);
    expect(j[1]).toMatchObject({ severity: 'warning', file: 'site.cfg', line: 3 });
  });

  test('warnings only: exit 0', async () => {
    const root = await tree('warn', { '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg"/>', 'site.cfg': SITE });
    const r = await polyprov(['lint', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 errors, 1 warning/);
  });

  test('usage errors exit 2: missing ROOT, ROOT not a directory, unknown model', async () => {
    expect((await polyprov(['lint'])).code).toBe(2);
    expect((await polyprov(['lint', join(tmp, 'does-not-exist')])).code).toBe(2);
    const root = await tree('usage', { '000000000000.cfg': MASTER });
    expect((await polyprov(['lint', root, '--model', 'SPIP9999'])).code).toBe(2);
  });

  test('secrets never reach the output', async () => {
    const root = await tree('secret', {
      '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg"/>',
      'site.cfg': '<c httpd.cfg.enabled="0" reg.1.auth.password="Very$ecret1" reg.1.auth.password.set="x"/>',
    });
    const r = await polyprov(['lint', root, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('PP_SEC_SHARED_SECRET');
    expect(r.stdout + r.stderr).not.toContain('Very$ecret1');
  });
});

describe('polyprov init (issue 3, polyprov init)', () => {
  test('creates the documented starter tree, and polyprov lint on it is clean (0 errors, 0 warnings)', async () => {
    const dir = join(tmp, 'starter');
    const r = await polyprov(['init', dir]);
    expect(r.code).toBe(0);
    const top = (await readdir(dir)).sort();
    expect(top).toEqual(expect.arrayContaining(['000000000000.cfg', 'site.cfg', 'README.txt', 'logs', 'overrides', 'contacts', 'licenses', 'calls', 'phones']));
    const master = await readFile(join(dir, '000000000000.cfg'), 'utf8');
    for (const a of ['LOG_FILE_DIRECTORY="logs"', 'OVERRIDES_DIRECTORY="overrides"', 'CONTACTS_DIRECTORY="contacts"', 'LICENSE_DIRECTORY="licenses"', 'CALL_LISTS_DIRECTORY="calls"']) {
      expect(master).toContain(a);
    }
    expect(await readFile(join(dir, 'contacts', '000000000000-directory.xml'), 'utf8')).toContain('<item_list>');
    expect(await readFile(join(dir, 'phones', 'example-phone.cfg'), 'utf8')).toContain('reg.1.auth.userId');

    const lint = await polyprov(['lint', dir, '--json']);
    expect(lint.code).toBe(0);
    expect(JSON.parse(lint.stdout)).toEqual([]);
  });

  test('the example per-phone file is not read by any phone; site.cfg is', async () => {
    const dir = join(tmp, 'starter-explain');
    expect((await polyprov(['init', dir])).code).toBe(0);
    const r = await polyprov(['explain', dir, '--mac', '0004f2000001', '--model', 'SPIP650', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.configFiles.map((c: { name: string }) => c.name)).toEqual(['managed/0004f2000001.cfg', 'phones/0004f2000001.cfg', 'site.cfg']); // issue 14: managed first
    expect(j.directory).toBe('contacts/000000000000-directory.xml');
    expect(j.params['httpd.cfg.enabled'].value).toBe('0');
    expect(j.params['reg.1.auth.userId']).toBeUndefined();
  });

  test('refuses a non-empty directory unless --force (exit 2)', async () => {
    const dir = await tree('nonempty', { 'keep.txt': 'mine' });
    const r = await polyprov(['init', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--force');
    expect(await readdir(dir)).toEqual(['keep.txt']);
    expect((await polyprov(['init', dir, '--force'])).code).toBe(0);
    expect(await readFile(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect((await readdir(dir)).includes('000000000000.cfg')).toBe(true);
  });
});
