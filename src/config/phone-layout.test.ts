import { describe, expect, test } from 'vitest';
import { parseMasterFile } from './master-file.ts';
import { directoriesOf, isMasterName, layoutOf, macOfName, masterCandidates, mastersBeside, uploadKeyFor, uploadKindOf, uploadPath } from './phone-layout.ts';
import type { Mac } from './types.ts';

const MAC = '0004f2000001' as Mac;
const master = (attrs: string, file = '000000000000.cfg') => parseMasterFile(`<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" ${attrs}/>`, file);

describe('phone layout: names', () => {
  test('Administrator\'s Guide, master configuration file: MAC names in either case; 000000000000 is no phone', () => {
    expect(macOfName('overrides/0004F2000001-phone.cfg')).toBe(MAC);
    expect(macOfName('000000000000-directory.xml')).toBeUndefined();
    expect(macOfName('site.cfg')).toBeUndefined();
    expect(isMasterName('tenant1/000000000000.cfg')).toBe(true);
    expect(isMasterName('0004f2000001-phone.cfg')).toBe(false);
    expect(uploadKindOf('logs/0004F2000001-APP.log')).toEqual({ mac: MAC, kind: 'log-app', name: '0004f2000001-app.log' });
    expect(uploadKindOf('0004f2000001-user.cfg')).toBeUndefined();
  });
});

describe('phone layout: directories', () => {
  test('white paper, Master Configuration File: CONTACT_DIRECTORY is the contact directory too; empty = the master\'s directory', () => {
    const em = layoutOf({ path: 'tenant1/000000000000.cfg', master: master('CONTACT_DIRECTORY="contacts" LOG_FILE_DIRECTORY=""', 'tenant1/000000000000.cfg') }, { mac: MAC }, []);
    expect(em.directories).toMatchObject({ contacts: 'tenant1/contacts', logs: 'tenant1', overrides: 'tenant1', callLists: 'tenant1' });
    expect(uploadPath(em, 'directory')).toBe('tenant1/contacts/0004f2000001-directory.xml');
  });

  test('CONTACTS_DIRECTORY, the spelling of every real file, wins when both are written', () => {
    const l = layoutOf({ path: '000000000000.cfg', master: master('CONTACTS_DIRECTORY="a" CONTACT_DIRECTORY="b"') }, { mac: MAC }, []);
    expect(l.directories.contacts).toBe('a');
  });

  test('a directory leaving the root is a problem and accepts nothing', () => {
    const problems: Error[] = [];
    const dirs = directoriesOf(layoutOf({ path: '000000000000.cfg', master: master('OVERRIDES_DIRECTORY="../x"') }, { mac: MAC }, []).effectiveMaster, '', problems as never);
    expect(dirs.overrides).toBe('../x');
    expect(problems.map((p) => (p as { code?: string }).code)).toEqual(['PP_PATH_HOSTILE']);
  });
});

describe('phone layout: the master and the upload key', () => {
  test('Administrator\'s Guide, "Master Configuration Files": named file, then <MAC>.cfg, then 000000000000.cfg, in the server path\'s directory', () => {
    expect(masterCandidates(MAC, 'tenant1/example1.cfg').map((c) => c.path)).toEqual(['tenant1/example1.cfg', 'tenant1/0004f2000001.cfg', 'tenant1/000000000000.cfg']);
    expect(masterCandidates(MAC, 'tenant1/').map((c) => c.path)).toEqual(['tenant1/0004f2000001.cfg', 'tenant1/000000000000.cfg']);
    expect(masterCandidates(MAC, undefined).map((c) => c.path)).toEqual(['0004f2000001.cfg', '000000000000.cfg']);
  });

  test('issue 13 item 4: the masters beside an upload, nearest first', () => {
    expect(mastersBeside('tenant1/logs/0004f2000001-app.log', MAC)).toEqual([
      'tenant1/logs/0004f2000001.cfg', 'tenant1/logs/000000000000.cfg', 'tenant1/0004f2000001.cfg', 'tenant1/000000000000.cfg', '0004f2000001.cfg', '000000000000.cfg',
    ]);
  });

  test('an upload is keyed only in the directory the layout names for its kind; the refusal names the attribute as spelt', () => {
    const l = layoutOf({ path: 't/000000000000.cfg', master: master('CONTACT_DIRECTORY="dir"', 't/000000000000.cfg') }, { mac: MAC }, []);
    expect(uploadKeyFor(l, 't/dir/0004F2000001-directory.xml')).toEqual({ key: { mac: MAC, kind: 'directory', path: 't/dir/0004f2000001-directory.xml' } });
    expect(uploadKeyFor(l, 'dir/0004f2000001-directory.xml')).toEqual({ want: 't/dir', attribute: 'CONTACT_DIRECTORY' });
    expect(uploadKeyFor(l, 't/0004f2000002-phone.cfg')).toBeUndefined(); // another phone's name
  });
});
