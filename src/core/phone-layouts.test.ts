// PhoneLayouts (phone-layouts.ts): the upload layout of each phone, worked out once per master
// version, kept compact — phones of one master share its directories (issue 14 Scale: server RSS).
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadKeyFor, uploadKeyOf } from '../config/phone-layout.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { Mac } from '../domain.ts';
import { PhoneLayouts } from './phone-layouts.ts';

const A = '0004f2000001' as Mac;
const B = '0004f2000002' as Mac;
let root: string;

const master = (logs: string, overrides: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" LOG_FILE_DIRECTORY="${logs}" OVERRIDES_DIRECTORY="${overrides}" CONTACTS_DIRECTORY="" />\n`;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'polyprov-layouts-'));
  await mkdir(join(root, 'logs'));
  await writeFile(join(root, '000000000000.cfg'), master('logs', 'overrides'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('PhoneLayouts', () => {
  it('gives each phone its own upload keys from the master, sharing the directories between phones', async () => {
    const layouts = new PhoneLayouts(new TreeFiles(root));
    const a = await layouts.forUpload(`logs/${A}-boot.log`, A, 'VVX410');
    const b = await layouts.forUpload(`logs/${B}-boot.log`, B, 'VVX410');
    expect(a.phone.mac).toBe(A);
    expect(b.phone.mac).toBe(B);
    expect(a.master?.file).toBe('000000000000.cfg');
    expect(a.directories.logs).toBe('logs');
    expect(a.directories).toBe(b.directories);
    expect(a.effectiveMaster).toBe(b.effectiveMaster);
    expect(uploadKeyFor(a, `logs/${A}-boot.log`)).toEqual({ key: { mac: A, kind: 'log-boot', path: `logs/${A}-boot.log` } });
    expect(uploadKeyOf(b, 'override-phone')).toEqual({ mac: B, kind: 'override-phone', path: `overrides/${B}-phone.cfg` });
    // Another phone's name is not this phone's upload.
    expect(uploadKeyFor(a, `logs/${B}-boot.log`)).toBeUndefined();
  });

  it('refuses an upload outside the directory, naming the attribute that set it', async () => {
    const layouts = new PhoneLayouts(new TreeFiles(root));
    const a = await layouts.forUpload(`${A}-boot.log`, A);
    expect(uploadKeyFor(a, `${A}-boot.log`)).toEqual({ want: 'logs', attribute: 'LOG_FILE_DIRECTORY' });
  });

  it('works the layout out again when the master changes', async () => {
    const tree = new TreeFiles(root);
    const layouts = new PhoneLayouts(tree);
    const before = await layouts.forUpload(`logs/${A}-boot.log`, A);
    expect(before.directories.logs).toBe('logs');
    await writeFile(join(root, '000000000000.cfg'), master('phone-logs', 'ovr'));
    // A fresh tree view: the served tree notices changes through its own stat cache.
    const after = await new PhoneLayouts(new TreeFiles(root)).forUpload(`phone-logs/${A}-boot.log`, A);
    expect(after.directories.logs).toBe('phone-logs');
    expect(after.directories.overrides).toBe('ovr');
  });
});
