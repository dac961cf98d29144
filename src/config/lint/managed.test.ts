import { describe, expect, test } from 'vitest';
import { starterFiles } from '../starter-tree.ts';
import { CLEAN_MASTER, cleanTree, lintFiles, withCode } from './lint-test-util.ts';

const LISTING = CLEAN_MASTER.replace('CONFIG_FILES="', 'CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, ');
const A = { mac: '0004f2000001', tenant: 'default' };
const B = { mac: '0004f2000002', tenant: 'default' };

describe('lint: managed phones and their master file (issue 14, Serving: "lint --data warns when managed phones would read a master that does not list it")', () => {
  test('a master without managed/[PHONE_MAC_ADDRESS].cfg read by managed phones: one warning at its CONFIG_FILES naming them', async () => {
    const f = withCode(await lintFiles(cleanTree(), { managed: [A, B] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'warning', file: '000000000000.cfg', line: 2 });
    expect(f[0]!.message).toContain('2 managed phones (0004f2000001, 0004f2000002)');
    expect(f[0]!.hint).toContain('managed/[PHONE_MAC_ADDRESS].cfg');
  });

  test('no managed phones (lint without --data): no warning', async () => {
    expect(withCode(await lintFiles(cleanTree()), 'PP_CFG_MANAGED_NOT_LISTED')).toEqual([]);
  });

  test('a master listing it, and the starter tree polyprov init writes: no warning, and the managed entry is not a missing file', async () => {
    expect(withCode(await lintFiles(cleanTree({ '000000000000.cfg': LISTING }), { managed: [A] }), 'PP_CFG_MANAGED_NOT_LISTED')).toEqual([]);
    expect(await lintFiles(starterFiles(), { managed: [A, B] })).toEqual([]);
    // A <MAC>.cfg master's substituted entry would otherwise be "missing": polyprov renders it.
    const f = await lintFiles(cleanTree({ '000000000000.cfg': LISTING, '0004f2000001.cfg': LISTING }), { managed: [A] });
    expect(withCode(f, 'PP_CFG_FILE_MISSING').map((x) => x.message)).toEqual([expect.stringContaining('phones/0004f2000001.cfg is not in the tree')]);
  });

  test('the phone\'s own <MAC>.cfg master is the one that counts: a MAC master without it warns for that phone only', async () => {
    const f = withCode(await lintFiles(cleanTree({ '000000000000.cfg': LISTING, '0004f2000002.cfg': CLEAN_MASTER }), { managed: [A, B] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(f.map((x) => [x.file, x.message.includes('0004f2000002'), x.message.includes('0004f2000001')])).toEqual([['0004f2000002.cfg', true, false]]);
  });

  test('a tenant phone reads ROOT/<tenant>/000000000000.cfg when it exists, else the shared one; no master at all: the rendered default lists it', async () => {
    const acme = { mac: '0004f2000003', tenant: 'acme' };
    const own = withCode(await lintFiles(cleanTree({ '000000000000.cfg': LISTING, 'acme/000000000000.cfg': CLEAN_MASTER }), { managed: [acme, A] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(own.map((x) => x.file)).toEqual(['acme/000000000000.cfg']);
    const shared = withCode(await lintFiles(cleanTree(), { managed: [acme] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(shared.map((x) => x.file)).toEqual(['000000000000.cfg']);
    const none = withCode(await lintFiles({ 'site.cfg': 'x' }, { managed: [acme] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(none).toEqual([]);
  });

  test('a model-specific CONFIG_FILES_<MODEL> is what a phone of that model reads', async () => {
    const master = LISTING.replace('<APPLICATION ', '<APPLICATION CONFIG_FILES_VVX410="site.cfg" ');
    const f = withCode(await lintFiles(cleanTree({ '000000000000.cfg': master }), { managed: [{ ...A, model: 'VVX410' }, B] }), 'PP_CFG_MANAGED_NOT_LISTED');
    expect(f).toHaveLength(1);
    expect(f[0]!.message).toContain('1 managed phone (0004f2000001) reads');
  });
});
