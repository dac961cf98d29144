import { describe, expect, test } from 'vitest';
import { lintTree } from './lint/index.ts';
import { MemTreeSource } from './lint/mem-tree.ts';
import { parseMasterFile } from './master-file.ts';
import { resolvePhone } from './resolver.ts';
import { starterFiles } from './starter-tree.ts';
import type { Mac } from './types.ts';

describe('starter tree (issue 3, polyprov init)', () => {
  test('issue 3: "polyprov lint DIR on it is clean"', async () => {
    expect(await lintTree(new MemTreeSource(starterFiles()))).toEqual([]);
  });

  test('white paper, Master Configuration File: separate logs, overrides, contacts, licenses (and calls) directories', () => {
    const m = parseMasterFile(starterFiles()['000000000000.cfg']!, '000000000000.cfg');
    const attr = (n: string) => m.attrs.find((a) => a.name === n)?.value;
    expect(attr('LOG_FILE_DIRECTORY')).toBe('logs');
    expect(attr('OVERRIDES_DIRECTORY')).toBe('overrides');
    expect(attr('CONTACTS_DIRECTORY')).toBe('contacts');
    expect(attr('LICENSE_DIRECTORY')).toBe('licenses');
    expect(attr('CALL_LISTS_DIRECTORY')).toBe('calls');
  });

  test('issue 14 Serving: "init writes a master file that lists managed/[PHONE_MAC_ADDRESS].cfg", first in CONFIG_FILES', () => {
    const m = parseMasterFile(starterFiles()['000000000000.cfg']!, '000000000000.cfg');
    const files = (m.attrs.find((a) => a.name === 'CONFIG_FILES')?.value ?? '').split(',').map((s) => s.trim());
    expect(files[0]).toBe('managed/[PHONE_MAC_ADDRESS].cfg');
    expect(files).toContain('site.cfg');
  });

  test('the example per-phone file is read by no phone; a phone with its own file gets its line, others do not', async () => {
    const files = starterFiles();
    const tree = new MemTreeSource({ ...files, 'phones/0004f2a1b2c3.cfg': files['phones/example-phone.cfg']! });
    const mine = await resolvePhone(tree, { mac: '0004f2a1b2c3' as Mac, model: 'VVX410' });
    expect(mine.params.get('reg.1.auth.userId')?.value).toBe('1001');
    const other = await resolvePhone(tree, { mac: '0004f2000001' as Mac, model: 'VVX410' });
    expect(other.params.has('reg.1.auth.userId')).toBe(false);
    expect(other.params.get('httpd.cfg.enabled')?.value).toBe('0');
    expect(other.directory).toBe('contacts/000000000000-directory.xml');
  });

  test('a per-phone password copied into site.cfg would be caught (the rule the starter README states)', async () => {
    const files = starterFiles();
    const site = files['site.cfg']!.replace('<httpd ', '<reg reg.1.auth.password="pw"/>\n  <httpd ');
    const f = await lintTree(new MemTreeSource({ ...files, 'site.cfg': site }));
    expect(f.map((x) => x.code)).toEqual(['PP_SEC_SHARED_SECRET']);
  });
});
