// Who reads a file, as the tree's master files tell (master-listings.ts; issue 13 item 6). White
// paper, Master Configuration File: CONFIG_FILES entries are relative to the master, and
// [PHONE_MAC_ADDRESS], [PHONE_MODEL_NUMBER] and [PHONE_PART_NUMBER] expand per phone.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { TreeFiles } from '../config/tree-source.ts';
import { MasterListings } from './master-listings.ts';

const master = (configFiles: string) => `<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="${configFiles}"/>\n`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'polyprov-listings-'));
  dirs.push(root);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  return root;
}

describe('MasterListings.readersOf', () => {
  const root = tree({
    '000000000000.cfg': master('site.cfg, models/[PHONE_MODEL_NUMBER].cfg, lines/[PHONE_MAC_ADDRESS]/line.cfg'),
    '0004f2000001.cfg': master('bob.cfg, pair.cfg, site.cfg'),
    '0004f2000002.cfg': master('pair.cfg'),
    'tenant/000000000000.cfg': master('t.cfg'),
    'tenant/0004f2000003.cfg': master('own.cfg, ../bob.cfg'),
  });
  const listings = new MasterListings(new TreeFiles(root));

  test.each([
    ['site.cfg', { shared: true }],
    ['models/SPIP650.cfg', { shared: true }],
    ['lines/0004f2000001/line.cfg', { shared: false, phones: ['0004f2000001'] }],
    ['bob.cfg', { shared: false, phones: ['0004f2000001'] }],
    ['pair.cfg', { shared: false, phones: ['0004f2000001', '0004f2000002'] }],
    ['tenant/t.cfg', { shared: true }],
    ['tenant/own.cfg', { shared: false, phones: ['0004f2000003'] }],
    ['nobody.cfg', { shared: false, phones: [] }],
  ])('%s → %j', async (rel, expected) => {
    expect(await listings.readersOf(rel)).toEqual(expected);
  });

  test('an edited master is read again (after REFRESH_MS), an unchanged one is not', async () => {
    const r = tree({ '0004f2000001.cfg': master('a.cfg'), '0004f2000002.cfg': master('b.cfg') });
    let now = 1_000_000;
    const l = new MasterListings(new TreeFiles(r), () => now);
    expect(await l.readersOf('a.cfg')).toEqual({ shared: false, phones: ['0004f2000001'] });
    writeFileSync(join(r, '0004f2000002.cfg'), master('a.cfg, b.cfg'));
    utimesSync(join(r, '0004f2000002.cfg'), new Date(5_000_000), new Date(5_000_000));
    now += 31_000;
    expect(await l.readersOf('a.cfg')).toEqual({ shared: false, phones: ['0004f2000001', '0004f2000002'] });
  });
});
