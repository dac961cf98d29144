// explain with the managed fleet (issue 14: "`polyprov explain ROOT --mac MAC [--data DIR]` shows, for
// each managed parameter, the scope that set it (`"scope": "site:hq"` in --json, beside the file and
// line it already gives) and what it shadowed"): the phone's tenant view, the scope and the managed
// shadows per parameter, secrets masked, and what it says when the master does not list the file.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FakeFleet } from '../../test/support/fake-fleet.ts';
import { toExplainJson } from '../config/explain-json.ts';
import { starterFiles } from '../config/starter-tree.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { Mac } from '../domain.ts';
import type { EffectiveSetting } from '../fleet/types.ts';
import { explainPhone, type ExplainFleet } from './explain.ts';

const dir = mkdtempSync(join(tmpdir(), 'polyprov-explain-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): TreeFiles {
  const root = join(dir, name);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  return new TreeFiles(root);
}

const MAC = '0004f2000031' as Mac;
const PW = `p"<&'w`;
const EFFECTIVE: EffectiveSetting[] = [
  { name: 'reg.1.auth.password', value: PW, secret: true, scope: `phone:${MAC}`, shadowed: [{ scope: 'group:acme/sales', value: 'older-secret' }] },
  { name: 'voIpProt.server.1.address', value: 'hq.acme.example', secret: false, scope: 'site:acme/hq', shadowed: [{ scope: 'tenant:acme', value: 'acme.example' }, { scope: 'global', value: 'global.example' }] },
];

function fleetWith(tenant: string): ExplainFleet {
  const files = new FakeFleet().addTenant('acme').setPhone(MAC, tenant, Object.fromEntries(EFFECTIVE.map((e) => [e.name, e.value])));
  return { files, effective: (mac) => (mac === MAC ? EFFECTIVE : []) };
}

describe('explain with the managed fleet (issue 14)', () => {
  test('a tenant phone: its tenant\'s master, the managed file first, "scope" per managed parameter with the managed values it shadowed, secrets masked', async () => {
    const files = starterFiles();
    const t = tree('tenant', { ...files, 'acme/site.cfg': files['site.cfg']!.replace('voIpProt.server.1.address=""', 'voIpProt.server.1.address="acme-tree.example"') });
    const ex = await explainPhone(t, undefined, undefined, { mac: MAC, model: 'VVX410' }, {}, fleetWith('acme'));
    expect(ex.managed).toMatchObject({ tenant: 'acme', managed: true });
    const j = toExplainJson(ex.resolution, { showSecrets: false, stored: ex.stored, managed: ex.managed! });
    expect(j.configFiles.map((c) => c.name)).toEqual([`managed/${MAC}.cfg`, `phones/${MAC}.cfg`, 'site.cfg']);
    expect(j.managed).toEqual({ tenant: 'acme', managed: true, file: `managed/${MAC}.cfg`, listed: true });
    const server = j.params['voIpProt.server.1.address']!;
    expect(server.value).toBe('hq.acme.example');
    expect(server.scope).toBe('site:acme/hq');
    expect(server.source.file).toBe(`managed/${MAC}.cfg`);
    // Managed shadows first (highest first), then the tree file it beats: the tenant's own site.cfg.
    expect(server.shadowed.map((s) => [s.scope, s.value, s.source.file])).toEqual([
      ['tenant:acme', 'acme.example', `managed/${MAC}.cfg`],
      ['global', 'global.example', `managed/${MAC}.cfg`],
      [undefined, 'acme-tree.example', 'site.cfg'],
    ]);
    const pw = j.params['reg.1.auth.password']!;
    expect(pw).toMatchObject({ value: '********', scope: `phone:${MAC}`, shadowed: [{ value: '********', scope: 'group:acme/sales' }] });
    expect(JSON.stringify(j)).not.toContain('older-secret');
    expect(JSON.stringify(j)).not.toContain(PW);
    // A parameter of a tree file has no scope.
    expect(j.params['httpd.cfg.enabled']).not.toHaveProperty('scope');
    const shown = toExplainJson(ex.resolution, { showSecrets: true, stored: ex.stored, managed: ex.managed! });
    expect(shown.params['reg.1.auth.password']!.value).toBe(PW); // intact through the rendered file
  });

  test('a master that does not list the managed file: nothing managed in the parameters, and explain says it is not listed', async () => {
    const files = starterFiles();
    const t = tree('unlisted', { ...files, '000000000000.cfg': files['000000000000.cfg']!.replace('managed/[PHONE_MAC_ADDRESS].cfg, ', '') });
    const ex = await explainPhone(t, undefined, undefined, { mac: MAC, model: 'VVX410' }, {}, fleetWith('default'));
    const j = toExplainJson(ex.resolution, { showSecrets: false, stored: ex.stored, managed: ex.managed! });
    expect(j.managed).toEqual({ tenant: 'default', managed: true, file: null, listed: false });
    expect(j.params['voIpProt.server.1.address']!.value).toBe('');
    expect(Object.values(j.params).some((p) => p.scope !== undefined)).toBe(false);
  });

  test('without a fleet the answer is as before: no "managed" key, no "scope"', async () => {
    const t = tree('plain', starterFiles());
    const ex = await explainPhone(t, undefined, undefined, { mac: MAC, model: 'VVX410' });
    const j = toExplainJson(ex.resolution, { showSecrets: false, stored: ex.stored });
    expect(j).not.toHaveProperty('managed');
    expect(j.configFiles[0]).toEqual({ name: `managed/${MAC}.cfg`, found: false });
  });
});
