import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Mac } from '../domain.ts';
import { isProvError } from '../errors.ts';
import { parseConfigFile } from '../config/config-file.ts';
import { lintFiles } from '../config/lint/lint-test-util.ts';
import { applyMaster, parseMasterFile } from '../config/master-file.ts';
import { etagOf, renderDefaultMaster, renderEmpty, renderManaged } from './render.ts';

const MAC = '0004f2000001' as Mac;

function paramsOf(body: Buffer): Array<{ name: string; value: string }> {
  const cfg = parseConfigFile(body, 'managed/0004f2000001.cfg');
  if (cfg.kind !== 'xml') throw new Error('not xml');
  return cfg.params.map(({ name, value }) => ({ name, value }));
}

describe('rendering managed files (issue 14, Serving)', () => {
  test('issue 14 Serving: a password holding " < & \' reaches the phone intact (escaped by construction, parsed back)', () => {
    const settings = [
      { name: 'reg.1.auth.password', value: `a"b<c&d'e>f ü\t\r\n` },
      { name: 'reg.1.address', value: '1001' },
      { name: 'reg.1.label', value: '&amp; <!-- not a comment -->' },
    ];
    const body = renderManaged(settings, MAC);
    expect(paramsOf(body)).toEqual([...settings].sort((a, b) => (a.name < b.name ? -1 : 1)));
  });

  test('issue 14 Serving: comment-free and deterministic: equal settings in any order give equal bytes and equal ETags', () => {
    const a = renderManaged([{ name: 'b.x', value: '1' }, { name: 'a.y', value: '2' }, { name: 'a.x', value: '3' }], MAC);
    const b = renderManaged([{ name: 'a.x', value: '3' }, { name: 'b.x', value: '1' }, { name: 'a.y', value: '2' }], MAC);
    expect(a.equals(b)).toBe(true);
    expect(etagOf(a)).toBe(etagOf(b));
    expect(a.toString('utf8')).not.toContain('<!--');
    expect(paramsOf(a).map((p) => p.name)).toEqual(['a.x', 'a.y', 'b.x']);
  });

  test('property (issue 14 Serving): the ETag changes exactly when the effective settings change', () => {
    const setting = fc.record({ name: fc.constantFrom('reg.1.address', 'reg.1.label', 'reg.2.address', 'prov.polling.mode'), value: fc.string({ maxLength: 6 }).map((s) => s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/g, '')) });
    const settings = fc.uniqueArray(setting, { selector: (s) => s.name, maxLength: 4 });
    fc.assert(
      fc.property(settings, settings, (x, y) => {
        const same = JSON.stringify([...x].sort((a, b) => (a.name < b.name ? -1 : 1))) === JSON.stringify([...y].sort((a, b) => (a.name < b.name ? -1 : 1)));
        expect(etagOf(renderManaged(x, MAC)) === etagOf(renderManaged(y, MAC))).toBe(same);
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  test('issue 14 Serving: the managed file is not a master file (root is not APPLICATION)', () => {
    const body = renderManaged([{ name: 'reg.1.address', value: '1001' }], MAC);
    let code: string | undefined;
    try {
      parseMasterFile(body, 'managed/0004f2000001.cfg');
    } catch (e) {
      code = isProvError(e) ? e.code : undefined;
    }
    expect(code).toBe('PP_CFG_NOT_MASTER');
  });

  test('issue 14 Serving: an unmanaged phone gets an empty, valid configuration file', () => {
    const body = renderEmpty();
    expect(paramsOf(body)).toEqual([]);
    expect(body.equals(renderManaged([], MAC))).toBe(true);
    expect(etagOf(body)).toMatch(/^"m-[A-Za-z0-9_-]{22}"$/);
  });

  test('issue 14 Serving: a duplicate name or a value an XML file cannot carry is an internal error naming the file, not the value', () => {
    for (const bad of [
      [{ name: 'reg.1.address', value: '1' }, { name: 'reg.1.address', value: '2' }],
      [{ name: 'reg.1.auth.password', value: 'sec\u0001ret' }],
    ]) {
      try {
        renderManaged(bad, MAC);
        expect.unreachable();
      } catch (e) {
        expect(isProvError(e) && e.code).toBe('PP_INTERNAL');
        expect((e as Error).message).toContain('managed/0004f2000001.cfg');
        expect((e as Error).message).not.toContain('sec\u0001ret');
      }
    }
  });

  test('issue 14 Serving: the default master lists managed/[PHONE_MAC_ADDRESS].cfg first, with the starter tree directories', () => {
    const master = applyMaster(parseMasterFile(renderDefaultMaster(), '000000000000.cfg'), { mac: MAC });
    expect(master.configFiles).toEqual(['managed/0004f2000001.cfg']);
    expect(master.appFilePath).toBeNull();
    expect(master.directories).toMatchObject({ LOG_FILE_DIRECTORY: 'logs', OVERRIDES_DIRECTORY: 'overrides', CONTACTS_DIRECTORY: 'contacts', LICENSE_DIRECTORY: 'licenses', CALL_LISTS_DIRECTORY: 'calls' });
    expect(renderDefaultMaster().equals(renderDefaultMaster())).toBe(true);
  });

  test('issue 14 Serving: a tree holding only the default master is lint-clean, with or without managed phones', async () => {
    const tree = { '000000000000.cfg': renderDefaultMaster() };
    // The one finding left is advice about a setting (httpd.cfg.enabled), not about the master:
    // lint of a tree cannot see managed settings, where a fleet sets it (global scope).
    const advice = (fs: Awaited<ReturnType<typeof lintFiles>>) => fs.filter((f) => f.code !== 'PP_SEC_WEB_SERVER_ON').map((f) => f.format());
    const plain = await lintFiles(tree);
    expect(advice(plain)).toEqual([]);
    expect(plain.every((f) => f.severity === 'warning')).toBe(true);
    expect(advice(await lintFiles(tree, { managed: [{ mac: MAC, tenant: 'default' }] }))).toEqual([]);
    // Shown able to fail: a master without the managed entry is reported for managed phones.
    const without = { '000000000000.cfg': renderDefaultMaster().toString('utf8').replace('managed/[PHONE_MAC_ADDRESS].cfg', '') };
    expect(advice(await lintFiles(without, { managed: [{ mac: MAC, tenant: 'default' }] }))).not.toEqual([]);
  });
});
