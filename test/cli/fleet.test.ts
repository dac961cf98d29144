// The managed fleet's commands run as an administrator runs them: ./bin/polyprov as a child
// process against one temp --data directory, in order (issue 14, CLI: fleet import/export, fleet
// list/show/add/remove/replace, tenants/sites/groups, settings, render, secrets rotate,
// accounts --tenant; explain's scopes; lint --data). Every JSON output is collected and checked for
// the passwords at the end: secrets never reach --json (issue 14, Tests).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeStarterTree } from '../../src/cli/init.ts';
import { parseConfigFile } from '../../src/config/config-file.ts';
import { lintTree } from '../../src/config/lint/index.ts';
import { TreeFiles } from '../../src/config/tree-source.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov as run, type CliResult } from './run-cli.ts';

const PW1 = `Pw<&"'1x`;
const PW2 = 'Secret-Two-22';
const PW_NEW = 'New<Pw>&-33';
const SECRETS = [PW1, PW2, PW_NEW];
const M1 = '0004f2000001';
const M2 = '0004f2000002';
const M3 = '0004f2000003';

let dir: string;
let data: string;
let root: string;
const jsonOutputs: string[] = [];

async function polyprov(args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const r = await run([...args, '--data', data], { ...o, timeoutMs: 60_000 });
  if (args.includes('--json')) jsonOutputs.push(r.stdout);
  return r;
}

function csv(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-fleet-'));
  data = join(dir, 'data');
  root = join(dir, 'site');
  await writeStarterTree(root);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `mac,model,label,site,groups,reg.1.address,reg.1.auth.userId,reg.1.auth.password\r\n${M1},VVX410,Front,hq,sales,1001,1001,"${PW1.replace(/"/g, '""')}"\r\n${M2},VVX410,Back,hq,,1002,1002,${PW2}\r\n`;

describe('polyprov fleet, settings, render, secrets (issue 14, CLI)', { timeout: 300_000 }, () => {
  test('issue 14 CLI: fleet import with bad rows reports every one as FILE:LINE: column: message, exits 1 and applies nothing', async () => {
    const file = csv('bad.csv', `mac,model,site,reg.1.address\n${M1},VVX410,hq,1001\nzz-not-a-mac,VVX410,,1002\n${M1},VVX410,,1003\n${M2},VVX410,,1004\n`);
    const r = await polyprov(['fleet', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`bad\\.csv:3: mac: `));
    expect(r.stderr).toMatch(new RegExp(`bad\\.csv:4: mac: `)); // the duplicate
    expect(r.stderr).toMatch(new RegExp(`bad\\.csv:2: site: `)); // site hq does not exist without --create
    expect(r.stderr).toContain('nothing applied');
    const list = await polyprov(['fleet', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  test('issue 14 CLI: import --create applies in one go and prints {"added","changed","unchanged"}; re-importing the same file changes nothing', async () => {
    const file = csv('good.csv', GOOD);
    const r = await polyprov(['fleet', 'import', file, '--create', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ added: 2, changed: 0, unchanged: 0 });
    const again = await polyprov(['fleet', 'import', file, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ added: 0, changed: 0, unchanged: 2 });
    const text = await polyprov(['fleet', 'import', file, '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('0 would be added, 0 would be changed, 2 unchanged');
  });

  test('issue 14 CLI: export leaves secrets blank unless --with-secrets; importing the export is a no-op', async () => {
    const plain = await polyprov(['fleet', 'export']);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split(/\r?\n/)[0]).toContain('reg.1.auth.password');
    for (const s of SECRETS) expect(plain.stdout).not.toContain(s);
    expect(plain.stdout).toContain(M1);
    const rows = JSON.parse((await polyprov(['fleet', 'export', '--json'])).stdout) as Array<Record<string, string>>;
    expect(rows.find((r) => r.mac === M1)).toMatchObject({ mac: M1, model: 'VVX410', label: 'Front', site: 'hq', groups: 'sales', 'reg.1.address': '1001', 'reg.1.auth.password': '' });
    const withSecrets = await polyprov(['fleet', 'export', '--with-secrets']);
    expect(withSecrets.stdout).toContain(PW2);
    const back = await polyprov(['fleet', 'import', csv('export.csv', plain.stdout), '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toEqual({ added: 0, changed: 0, unchanged: 2 });
    const full = await polyprov(['fleet', 'import', csv('export-secrets.csv', withSecrets.stdout), '--json']);
    expect(JSON.parse(full.stdout)).toEqual({ added: 0, changed: 0, unchanged: 2 });
  });

  test('issue 14 CLI: fleet list filters and --json, sites and groups list', async () => {
    const bySite = await polyprov(['fleet', 'list', '--site', 'hq', '--json']);
    expect(JSON.parse(bySite.stdout).map((p: { mac: string }) => p.mac).sort()).toEqual([M1, M2]);
    const byGroup = await polyprov(['fleet', 'list', '--group', 'sales', '--json']);
    expect(JSON.parse(byGroup.stdout)).toEqual([expect.objectContaining({ mac: M1, site: 'hq', groups: ['sales'], model: 'VVX410', label: 'Front' })]);
    const sites = await polyprov(['fleet', 'sites', 'list', '--json']);
    expect(JSON.parse(sites.stdout)).toEqual(['hq']);
  });

  test('issue 14 CLI: settings set/show/unset at scopes; a secret by --value-stdin is shown as set, never in clear; unknown names are refused with the nearest (exit 1), a malformed scope is a usage error (exit 2)', async () => {
    const site = await polyprov(['settings', 'set', 'site:hq', 'voIpProt.server.1.address=hq.example.com', '--json']);
    expect(site.stderr).toBe('');
    expect(site.code).toBe(0);
    expect(JSON.parse(site.stdout).affected.sort()).toEqual([M1, M2]);
    expect((await polyprov(['settings', 'set', 'global', 'voIpProt.server.1.address=global.example.com', 'voIpProt.server.1.port=5070'])).code).toBe(0);
    const secret = await polyprov(['settings', 'set', `phone:${M1}`, 'reg.1.auth.password', '--value-stdin', '--json'], { input: `${PW_NEW}\n` });
    expect(secret.code).toBe(0);
    expect(JSON.parse(secret.stdout).affected).toEqual([M1]);
    const show = await polyprov(['settings', 'show', `phone:${M1}`, '--json']);
    expect(JSON.parse(show.stdout)).toContainEqual({ name: 'reg.1.auth.password', value: { set: true } });
    const showText = await polyprov(['settings', 'show', `phone:${M1}`]);
    for (const s of SECRETS) expect(showText.stdout).not.toContain(s);
    const unknown = await polyprov(['settings', 'set', 'global', 'voIpProt.server.1.adress=x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('PP_FLEET_PARAM_UNKNOWN');
    expect(unknown.stderr).toContain('voIpProt.server.1.address');
    const scope = await polyprov(['settings', 'set', 'planet:mars', 'a=b']);
    expect(scope.code).toBe(2);
    const unset = await polyprov(['settings', 'unset', 'global', 'voIpProt.server.1.port', '--json']);
    expect(unset.code).toBe(0);
    expect(JSON.parse(unset.stdout).changes).toHaveLength(1);
    const noop = await polyprov(['settings', 'unset', 'global', 'voIpProt.server.1.port', '--json']);
    expect(JSON.parse(noop.stdout).changes).toEqual([]);
  });

  test('issue 14 CLI: fleet show gives effective managed settings with the scope that set each and what it shadowed, secrets masked', async () => {
    const r = await polyprov(['fleet', 'show', M1, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.phone).toMatchObject({ mac: M1, tenant: 'default', site: 'hq' });
    const server = j.effective.find((e: { name: string }) => e.name === 'voIpProt.server.1.address');
    expect(server).toMatchObject({ value: 'hq.example.com', scope: 'site:hq', shadowed: [{ scope: 'global', value: 'global.example.com' }] });
    expect(j.effective.find((e: { name: string }) => e.name === 'reg.1.auth.password')).toMatchObject({ value: '********', scope: `phone:${M1}` });
    const missing = await polyprov(['fleet', 'show', M3]);
    expect(missing.code).toBe(1);
    expect((await polyprov(['fleet', 'show', 'not-a-mac'])).code).toBe(2);
  });

  test('issue 14 explain: the managed file\'s parameters carry "scope": "site:hq" and what they shadowed, in --json and text; secrets masked', async () => {
    const r = await polyprov(['explain', root, '--mac', M1, '--model', 'VVX410', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.configFiles[0]).toEqual({ name: `managed/${M1}.cfg`, found: true });
    const p = j.params['voIpProt.server.1.address'];
    expect(p.scope).toBe('site:hq');
    expect(p.source.file).toBe(`managed/${M1}.cfg`);
    expect(p.shadowed[0]).toMatchObject({ value: 'global.example.com', scope: 'global' });
    expect(j.params['reg.1.auth.password']).toMatchObject({ value: '********', scope: `phone:${M1}` });
    expect(j.params['reg.1.address']).toMatchObject({ value: '1001', scope: `phone:${M1}` });
    expect(j.managed).toMatchObject({ tenant: 'default', managed: true, listed: true });
    const text = await polyprov(['explain', root, '--mac', M1, '--model', 'VVX410']);
    expect(text.stdout).toMatch(/voIpProt\.server\.1\.address\s+"hq\.example\.com"\s+managed\/0004f2000001\.cfg:\d+ \(site:hq\)\s+shadows global/);
    for (const s of SECRETS) expect(text.stdout).not.toContain(s);
  });

  test('issue 14 lint --data: a master that managed phones read without managed/[PHONE_MAC_ADDRESS].cfg is a warning (exit 0); the init tree is clean', async () => {
    const clean = await polyprov(['lint', root, '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toEqual([]);
    const other = join(dir, 'old-tree');
    await writeStarterTree(other);
    const master = join(other, '000000000000.cfg');
    writeFileSync(master, readFileSync(master, 'utf8').replace('managed/[PHONE_MAC_ADDRESS].cfg, ', ''));
    const r = await polyprov(['lint', other, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ severity: 'warning', code: 'PP_CFG_MANAGED_NOT_LISTED', file: '000000000000.cfg' })]);
    const noData = await run(['lint', other, '--json'], { timeoutMs: 60_000 });
    expect(noData.code, noData.stderr).toBe(0);
    expect(JSON.parse(noData.stdout)).toEqual([]);
  });

  test('issue 14 render --out: a static tree with managed/<MAC>.cfg per phone (the password intact), lint clean on it', async () => {
    const out = join(dir, 'static');
    const r = await polyprov(['render', '--out', out, '--root', root, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tenant: 'default', managed: 2, master: 'tree' });
    const cfg = parseConfigFile(readFileSync(join(out, 'managed', `${M1}.cfg`)), `managed/${M1}.cfg`);
    const params = cfg.kind === 'xml' ? new Map(cfg.params.map((p) => [p.name, p.value])) : new Map();
    expect(params.get('reg.1.auth.password')).toBe(PW_NEW);
    expect(params.get('voIpProt.server.1.address')).toBe('hq.example.com');
    expect(readFileSync(join(out, 'site.cfg'), 'utf8')).toBe(readFileSync(join(root, 'site.cfg'), 'utf8'));
    const findings = await lintTree(new TreeFiles(out), { managed: [{ mac: M1, tenant: 'default' }, { mac: M2, tenant: 'default' }] });
    // Clean: no error, no warning (an info says site.cfg's empty server address is shadowed by the managed one, as it is).
    expect(findings.filter((f) => f.severity !== 'info').map((f) => f.format())).toEqual([]);
    expect(findings.map((f) => f.code)).toEqual(['PP_PARAM_SHADOWED']);
    const again = await polyprov(['render', '--out', out, '--root', root]);
    expect(again.code).toBe(2); // not empty: refused without --force
  });

  test('issue 14 Tenants: tenants add/list/remove; accounts add --tenant T belongs to T; an unknown tenant is refused', async () => {
    expect((await polyprov(['fleet', 'tenants', 'add', 'acme'])).code).toBe(0);
    expect((await polyprov(['fleet', 'tenants', 'add', 'acme'])).code).toBe(1);
    expect(JSON.parse((await polyprov(['fleet', 'tenants', 'list', '--json'])).stdout)).toEqual(expect.arrayContaining(['acme', 'default']));
    expect((await polyprov(['fleet', 'groups', 'add', 'night', '--tenant', 'acme'])).code).toBe(0);
    expect(JSON.parse((await polyprov(['fleet', 'groups', 'list', '--tenant', 'acme', '--json'])).stdout)).toEqual(['night']);
    expect((await polyprov(['fleet', 'groups', 'remove', 'night', '--tenant', 'acme'])).code).toBe(0);
    expect((await polyprov(['fleet', 'groups', 'remove', 'night', '--tenant', 'acme'])).code).toBe(1);
    const clash = await polyprov(['fleet', 'tenants', 'add', 'phones', '--root', root]); // a folder at the tree root
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain('PP_FLEET_TENANT_CLASH');
    const a = await polyprov(['accounts', 'add', 'acme-site', '--tenant', 'acme', '--password-stdin'], { input: 'Acme-Pw-1\n' });
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      expect((await store.accounts.get('acme-site'))?.tenant).toBe('acme');
    } finally {
      await store.close();
    }
    const none = await polyprov(['accounts', 'add', 'x', '--tenant', 'nosuch', '--password-stdin'], { input: 'x-pw\n' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no tenant nosuch');
  });

  test('issue 14 CLI: fleet add, replace (settings move to the new MAC) and remove', async () => {
    expect((await polyprov(['fleet', 'add', M3, '--model', 'VVX410', '--site', 'hq', '--json'])).code).toBe(0);
    expect((await polyprov(['fleet', 'remove', M3])).code).toBe(0);
    expect((await polyprov(['fleet', 'remove', M3])).code).toBe(1);
    const rep = await polyprov(['fleet', 'replace', M2, M3, '--json']);
    expect(rep.stderr).toBe('');
    expect(rep.code).toBe(0);
    const moved = JSON.parse((await polyprov(['fleet', 'show', M3, '--json'])).stdout);
    expect(moved.effective.find((e: { name: string }) => e.name === 'reg.1.address')).toMatchObject({ value: '1002', scope: `phone:${M3}` });
    expect((await polyprov(['fleet', 'show', M2])).code).toBe(1);
  });

  test('issue 14 Secrets: secrets rotate writes the new key 0600 and the store opens with it; --new-key-file F writes F', async () => {
    const keyFile = join(data, 'secret.key');
    const before = readFileSync(keyFile, 'utf8');
    const r = await polyprov(['secrets', 'rotate', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.keyFile).toBe(keyFile);
    expect(j.resealed).toBeGreaterThanOrEqual(2);
    const after = readFileSync(keyFile, 'utf8');
    expect(after).not.toBe(before);
    expect(r.stdout).not.toContain(after.trim());
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const show = await polyprov(['fleet', 'export', '--with-secrets']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(PW_NEW);
    const f = join(dir, 'next.key');
    const r2 = await polyprov(['secrets', 'rotate', '--new-key-file', f]);
    expect(r2.code).toBe(0);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(r2.stdout).not.toContain(readFileSync(f, 'utf8').trim());
    const withNew = await polyprov(['fleet', 'export', '--with-secrets'], { env: { POLYPROV_SECRET_KEY: readFileSync(f, 'utf8').trim() } });
    expect(withNew.code).toBe(0);
    expect(withNew.stdout).toContain(PW_NEW);
    const oldKey = await polyprov(['fleet', 'export']);
    expect(oldKey.code).toBe(3);
    expect(oldKey.stderr).toContain('PP_FLEET_KEY_MISMATCH');
    // lint still lints the tree when the fleet cannot be opened, and says what it left out.
    const lint = await polyprov(['lint', root]);
    expect(lint.code, lint.stderr).toBe(0);
    expect(lint.stderr).toContain('managed phones not checked');
  });

  test('issue 14 Tests: no secret in any --json output, nor in the change record', async () => {
    const changes = await run(['changes', '--json', '--data', data], { env: { POLYPROV_SECRET_KEY: readFileSync(join(dir, 'next.key'), 'utf8').trim() } });
    expect(changes.code).toBe(0);
    expect(changes.stdout).toContain('settings');
    jsonOutputs.push(changes.stdout);
    expect(jsonOutputs.length).toBeGreaterThan(10);
    for (const out of jsonOutputs) for (const s of SECRETS) expect(out).not.toContain(s);
  });
});
