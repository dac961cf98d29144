import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FakeFleet } from '../../test/support/fake-fleet.ts';
import { lintTree } from '../config/lint/index.ts';
import { starterFiles } from '../config/starter-tree.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { Mac, ManagedPhone } from '../domain.ts';
import { isProvError } from '../errors.ts';
import { renderTree } from './render-tree.ts';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-render-tree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  return root;
}

function listAll(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listAll(root, p));
    else out.push(p);
  }
  return out.sort();
}

const phone = (mac: string, tenant: string): ManagedPhone => ({ mac: mac as Mac, tenant, groups: [], createdAt: new Date(0), updatedAt: new Date(0) });

describe('render --out: the tree a tenant is served, as a static tree (issue 14, CLI render)', () => {
  const fleet = new FakeFleet()
    .addTenant('acme', 'beta')
    .setPhone('0004f2000001', 'acme', { 'reg.1.address': '1001', 'reg.1.auth.password': `a"<&'b` })
    .setPhone('0004f2000002', 'beta', { 'reg.1.address': '2002' });
  const root = tree('root', {
    'site.cfg': starterFiles()['site.cfg']!,
    'firmware/readme.txt': 'shared',
    'acme/site.cfg': starterFiles()['site.cfg']!.replace('voIpProt.server.1.address=""', 'voIpProt.server.1.address="acme.example.com"'),
    'acme/logo.txt': 'acme only',
    'beta/secret-beta.cfg': '<polycomConfig/>',
  });

  test('a tenant: its own files over the shared ones, no other tenant\'s folder, its phones\' managed files only, the default master where it has none; lint clean', async () => {
    const out = join(dir, 'acme-out');
    const r = await renderTree({ root, out, tenant: 'acme', fleet, phones: [phone('0004f2000001', 'acme')] });
    expect(r).toEqual({ copied: 3, managed: 1, master: 'default' });
    expect(listAll(out)).toEqual(['000000000000.cfg', 'firmware/readme.txt', 'logo.txt', 'managed/0004f2000001.cfg', 'site.cfg']);
    expect(readFileSync(join(out, 'site.cfg'), 'utf8')).toContain('acme.example.com');
    expect(readFileSync(join(out, '000000000000.cfg'))).toEqual(fleet.defaultMaster('acme').body);
    expect(readFileSync(join(out, 'managed/0004f2000001.cfg'))).toEqual(fleet.managedFile('0004f2000001' as Mac).body);
    // Lint passes (no error). The default master lists the managed file alone, so a phone without
    // managed settings reads nothing that turns its web server off: lint says so, as it should.
    const findings = await lintTree(new TreeFiles(out), { managed: [{ mac: '0004f2000001', tenant: 'default' }] });
    expect(findings.filter((f) => f.severity === 'error').map((f) => f.format())).toEqual([]);
    expect(findings.filter((f) => f.severity === 'warning').map((f) => f.code)).toEqual(['PP_SEC_WEB_SERVER_ON']);
  });

  test('the tree\'s own master is copied as it is; refuses a non-empty --out without force, and an --out inside the tree', async () => {
    const withMaster = tree('with-master', { ...starterFiles() });
    const out = join(dir, 'default-out');
    const r = await renderTree({ root: withMaster, out, tenant: 'default', fleet, phones: [] });
    expect(r.master).toBe('tree');
    expect(readFileSync(join(out, '000000000000.cfg'), 'utf8')).toBe(starterFiles()['000000000000.cfg']);
    const refused = await renderTree({ root: withMaster, out, tenant: 'default', fleet, phones: [] }).catch((e: unknown) => e);
    expect(isProvError(refused) && refused.code).toBe('PP_USAGE');
    expect((await renderTree({ root: withMaster, out, tenant: 'default', fleet, phones: [], force: true })).master).toBe('tree');
    const inside = await renderTree({ root: withMaster, out: join(withMaster, 'out'), tenant: 'default', fleet, phones: [] }).catch((e: unknown) => e);
    expect(isProvError(inside) && inside.message).toContain('inside the provisioning tree');
  });
});
