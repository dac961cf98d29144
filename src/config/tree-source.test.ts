import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { TreeFiles, hasMacName, safeSegments } from './tree-source.ts';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'polyprov-tree-'));
  root = join(base, 'root');
  await mkdir(join(root, 'overrides'), { recursive: true });
  await mkdir(join(root, '.git'), { recursive: true });
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(root, '0004F2000001.cfg'), 'upper');
  await writeFile(join(root, 'overrides', '0004f2000002-phone.cfg'), 'lower');
  await writeFile(join(root, 'Site.cfg'), 'site');
  await writeFile(join(root, '.git', 'config'), 'hidden');
  await writeFile(join(root, 'sub', 'deeper', 'x.cfg'), 'x');
  await writeFile(join(base, 'outside.cfg'), 'secret');
  await symlink(join(base, 'outside.cfg'), join(root, 'escape.cfg'));
  await symlink(base, join(root, 'escape-dir'));
  await symlink(join(root, 'Site.cfg'), join(root, 'alias.cfg'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function hostile(p: () => Promise<unknown>): Promise<string | undefined> {
  return p().then(
    () => undefined,
    (e) => (isProvError(e) ? e.code : String(e)),
  );
}

describe('TreeFiles', () => {
  test('Administrator\'s Guide, master configuration file: "For A-F hexadecimal digits, use upper or lower case"', async () => {
    const src = new TreeFiles(root);
    expect((await src.read('0004f2000001.cfg'))?.toString()).toBe('upper');
    expect((await src.read('0004F2000001.cfg'))?.toString()).toBe('upper');
    expect((await src.read('overrides/0004F2000002-phone.cfg'))?.toString()).toBe('lower');
    expect(await src.exists('overrides/0004F2000002-PHONE.cfg')).toBe(false); // only the MAC digits are case-blind
    // Non-MAC names stay case-sensitive.
    expect(await src.read('site.cfg')).toBeNull();
    expect(await src.exists('Site.cfg')).toBe(true);
    expect(await src.read('missing.cfg')).toBeNull();
    expect(await src.read('sub')).toBeNull(); // a directory is not a file
  });

  test('hostile paths are refused with PP_PATH_HOSTILE: .., absolute, NUL, backslash', async () => {
    const src = new TreeFiles(root);
    for (const p of ['../outside.cfg', 'sub/../../outside.cfg', '/etc/passwd', 'a\0b.cfg', '..\\outside.cfg', 'C:/x.cfg']) {
      expect(await hostile(() => src.read(p))).toBe('PP_PATH_HOSTILE');
      expect(await hostile(() => src.exists(p))).toBe('PP_PATH_HOSTILE');
    }
    expect(safeSegments('./sub//deeper/x.cfg')).toEqual(['sub', 'deeper', 'x.cfg']);
  });

  test('symlinks resolving outside the root are refused; links inside it are followed', async () => {
    const src = new TreeFiles(root);
    expect(await hostile(() => src.read('escape.cfg'))).toBe('PP_PATH_HOSTILE');
    expect(await hostile(() => src.read('escape-dir/outside.cfg'))).toBe('PP_PATH_HOSTILE');
    expect((await src.read('alias.cfg'))?.toString()).toBe('site');
  });

  test('list() walks the tree, sorted, skipping dot-directories and links that leave the root', async () => {
    const src = new TreeFiles(root);
    const all: string[] = [];
    for await (const p of src.list()) all.push(p);
    expect(all).toEqual(['0004F2000001.cfg', 'Site.cfg', 'alias.cfg', 'overrides/0004f2000002-phone.cfg', 'sub/deeper/x.cfg']);
  });

  test('MAC-named files: a run of 12 hex digits anywhere in the name', () => {
    expect(hasMacName('0004F2000001.cfg')).toBe(true);
    expect(hasMacName('0004f2000001-phone.cfg')).toBe(true);
    expect(hasMacName('000000000000-directory.xml')).toBe(true);
    expect(hasMacName('site.cfg')).toBe(false);
    expect(hasMacName('0004f20000012.cfg')).toBe(false);
  });
});
