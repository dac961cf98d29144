import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { resolvePhone, toExplainJson } from './resolver.ts';
import { TreeFiles } from './tree-source.ts';
import type { Mac, TreeSource } from './types.ts';

const BASIC = fileURLToPath(new URL('../../test/fixtures/trees/basic', import.meta.url));
const basic = new TreeFiles(BASIC);
const mac1 = '0004f2000001' as Mac;

/** An in-memory tree for cases the fixture does not hold. */
class MemTree implements TreeSource {
  constructor(private readonly files: Record<string, string>) {}
  async read(path: string): Promise<Buffer | null> {
    const hit = Object.keys(this.files).find((k) => k.toLowerCase() === path.toLowerCase());
    return hit === undefined ? null : Buffer.from(this.files[hit]!);
  }
  async exists(path: string): Promise<boolean> {
    return (await this.read(path)) !== null;
  }
  async *list(): AsyncIterable<string> {
    yield* Object.keys(this.files);
  }
}

const master = (attrs: string, children = '') => `<APPLICATION ${attrs}>${children}</APPLICATION>`;

describe('resolver: master file', () => {
  test('Administrator\'s Guide, master configuration file lookup: <MAC>.cfg (either case) before 000000000000.cfg', async () => {
    const r2 = await resolvePhone(basic, { mac: '0004f2000002' as Mac });
    expect(r2.master?.file).toBe('0004f2000002.cfg'); // the file on disk is 0004F2000002.cfg
    expect(r2.master?.reason).toMatch(/per-phone/);
    const r1 = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(r1.master?.file).toBe('000000000000.cfg');
    expect(r1.master?.reason).toMatch(/default/);
  });

  test('Administrator\'s Guide: a master file named in the boot-server address is fetched first, else the usual search', async () => {
    const tree = new MemTree({
      'dir/example1.cfg': master('APP_FILE_PATH="" CONFIG_FILES="a.cfg"'),
      '000000000000.cfg': master('APP_FILE_PATH="" CONFIG_FILES="b.cfg"'),
    });
    const named = await resolvePhone(tree, { mac: mac1 }, { masterName: 'dir/example1.cfg' });
    expect(named.master?.file).toBe('dir/example1.cfg');
    expect(named.master?.reason).toMatch(/boot-server address/);
    expect(named.configFiles).toEqual([{ name: 'dir/a.cfg', found: false }]);
    const missing = await resolvePhone(tree, { mac: mac1 }, { masterName: 'nothere.cfg' });
    expect(missing.master?.file).toBe('000000000000.cfg');
    expect(missing.master?.reason).toMatch(/nothere\.cfg named in the server address was not found/);
  });

  test('no master file at all: nothing resolved, nothing thrown', async () => {
    const r = await resolvePhone(new MemTree({}), { mac: mac1 });
    expect(r.master).toBeNull();
    expect(r.application).toBeNull();
    expect(r.configFiles).toEqual([]);
    expect(r.params.size).toBe(0);
  });

  test('a master file that is not well formed is reported and the next candidate is used', async () => {
    const tree = new MemTree({ [`${mac1}.cfg`]: '<APPLICATION', '000000000000.cfg': master('CONFIG_FILES=""') });
    const r = await resolvePhone(tree, { mac: mac1 });
    expect(r.master?.file).toBe('000000000000.cfg');
    expect(r.problems.map((p) => p.code)).toContain('PP_CFG_XML_MALFORMED');
  });
});

describe('resolver: application image', () => {
  test('Administrator\'s Guide: sip.ld becomes <part>.sip.ld when that image exists', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(r.phone.partNumber).toBe('2345-12600-001'); // defaulted from the model
    expect(r.application).toBe('2345-12600-001.sip.ld');
  });

  test('facts §1.5: falls back to sip.ld when no part-number image is in the tree', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP601' });
    expect(r.application).toBe('sip.ld');
  });

  test('white paper, Master Configuration File: APP_FILE_PATH empty means no software check (model-specific empty value wins too)', async () => {
    const r = await resolvePhone(basic, { mac: '0004f2000003' as Mac, model: 'VVX1500' });
    expect(r.effectiveMaster?.appFilePath).toBeNull();
    expect(r.application).toBeNull();
  });
});

describe('resolver: CONFIG_FILES', () => {
  test('white paper, CONFIG_FILES: entries in order after substitution, found flags, URL entries kept and not checked', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(r.configFiles).toEqual([
      { name: '0004f2000001-user.cfg', found: true },
      { name: 'site.cfg', found: true },
      { name: 'sip650.cfg', found: true },
      { name: 'secure.cfg', found: true, encrypted: true },
      { name: 'ftp://prov:s3cretPass@192.0.2.10/extra.cfg', found: false, url: true },
    ]);
  });

  test('facts §7: an encrypted file is listed as found and encrypted, contributes no parameters, and is noted', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(r.problems.map((p) => [p.code, p.file])).toContainEqual(['PP_CFG_ENCRYPTED', 'secure.cfg']);
    for (const p of r.params.values()) expect(p.source.file).not.toBe('secure.cfg');
  });

  test('a configuration file that is not well formed goes to problems and is skipped; missing files are found=false', async () => {
    const r = await resolvePhone(basic, { mac: '0004f2000002' as Mac });
    expect(r.configFiles).toEqual([
      { name: 'broken.cfg', found: true },
      { name: 'site.cfg', found: true },
      { name: 'missing.cfg', found: false },
    ]);
    const bad = r.problems.find((p) => p.file === 'broken.cfg');
    expect([bad?.code, bad?.line, bad?.column]).toEqual(['PP_CFG_XML_MALFORMED', 3, 24]);
    expect(r.params.get('reg.1.address')?.value).toBe('site-default');
  });

  test('entries resolve against the master file directory; entries leaving the root are refused', async () => {
    const tree = new MemTree({
      'site2/phones.cfg': master('CONFIG_FILES="a.cfg, /top.cfg, ../../etc/passwd, sub/b.cfg"'),
      'site2/a.cfg': '<c p.a="1"/>',
      'top.cfg': '<c p.top="1"/>',
      'site2/sub/b.cfg': '<c p.a="2"/>',
    });
    const r = await resolvePhone(tree, { mac: mac1 }, { masterName: 'site2/phones.cfg' });
    expect(r.configFiles).toEqual([
      { name: 'site2/a.cfg', found: true },
      { name: 'top.cfg', found: true },
      { name: '../../etc/passwd', found: false },
      { name: 'site2/sub/b.cfg', found: true },
    ]);
    expect(r.problems.map((p) => p.code)).toContain('PP_PATH_HOSTILE');
    expect(r.params.get('p.a')?.value).toBe('1');
  });
});

describe('resolver: directories and contact directory', () => {
  test('white paper, Master Configuration File: empty directories mean the server path, relative ones resolve against it, URLs are kept', async () => {
    const tree = new MemTree({
      'site2/phones.cfg': master('LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="./ovr/" CONTACTS_DIRECTORY="http://u:pw@dir.example/c" LICENSE_DIRECTORY="/lic"'),
    });
    const r = await resolvePhone(tree, { mac: mac1 }, { masterName: 'site2/phones.cfg' });
    expect(r.directories).toMatchObject({ logs: 'site2', overrides: 'site2/ovr', contacts: 'http://u:pw@dir.example/c', licenses: 'lic', callLists: 'site2' });
    expect(toExplainJson(r, { showSecrets: true }).directories.contacts).toBe('http://u:***@dir.example/c');
    const b = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(b.directories).toEqual({ logs: 'logs', overrides: 'overrides', contacts: 'contacts', licenses: 'licenses', callLists: '', userProfiles: '', coreFiles: '', certificates: '', flk: '', icons: '', cameraPresets: '' });
  });

  test('white paper, Configuring Your Local Contact Directory: <MAC>-directory.xml first, else 000000000000-directory.xml', async () => {
    expect((await resolvePhone(basic, { mac: mac1, model: 'SPIP650' })).directory).toBe('contacts/0004f2000001-directory.xml');
    // No own file in contacts/ and no seed there: the seed at the root of the server path.
    expect((await resolvePhone(basic, { mac: '0004f2000003' as Mac })).directory).toBe('000000000000-directory.xml');
    // The seed in CONTACTS_DIRECTORY is preferred over the one at the root.
    const tree = new MemTree({
      '000000000000.cfg': master('CONTACTS_DIRECTORY="contacts"'),
      'contacts/000000000000-directory.xml': '<directory/>',
      '000000000000-directory.xml': '<directory/>',
    });
    expect((await resolvePhone(tree, { mac: mac1 })).directory).toBe('contacts/000000000000-directory.xml');
    // "only when it has no directory of its own"
    expect((await resolvePhone(tree, { mac: mac1 }, { hasLocalDirectory: true })).directory).toBeNull();
    expect((await resolvePhone(new MemTree({ '000000000000.cfg': master('') }), { mac: mac1 })).directory).toBeNull();
  });
});

describe('resolver: parameters', () => {
  test('white paper, Default Configuration Parameter Values: <MAC>-phone.cfg beats <MAC>-web.cfg beats CONFIG_FILES left to right', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    const p = r.params.get('tcpIpApp.sntp.address')!;
    expect(p.value).toBe('keypad.ntp.example.com');
    expect(p.source).toEqual({ file: 'overrides/0004f2000001-phone.cfg', line: 3, column: 14 });
    expect(p.shadowed.map((s) => [s.value, s.source.file])).toEqual([
      ['web.ntp.example.com', 'overrides/0004f2000001-web.cfg'],
      ['phone.ntp.example.com', '0004f2000001-user.cfg'],
      ['site.ntp.example.com', 'site.cfg'],
    ]);
    expect(r.params.get('lcl.ml.lang')?.source.file).toBe('overrides/0004f2000001-web.cfg');
  });

  test('white paper, CONFIG_FILES: the leftmost file takes precedence (site.cfg before sip650.cfg)', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    const p = r.params.get('voIpProt.server.1.address')!;
    expect([p.value, p.source.file]).toEqual(['sip.example.com', 'site.cfg']);
    expect(p.shadowed).toEqual([{ value: 'sip650.example.com', source: { file: 'sip650.cfg', line: 4, column: 13 } }]);
    expect(r.params.get('voIpProt.server.1.port')?.value).toBe('5060');
  });

  test('facts §2.1: a model-suffixed parameter applies only to that model, and then beats the unsuffixed one from any file', async () => {
    const tree = new MemTree({
      '000000000000.cfg': master('CONFIG_FILES="first.cfg, site.cfg"'),
      'first.cfg': '<c dir.local.contacts.maxNum="200"/>',
      'site.cfg': '<c dir.local.contacts.maxNum="500" dir.local.contacts.maxNum.VVX1500="9999" voice.x.IP_650="7"/>',
    });
    const vvx = await resolvePhone(tree, { mac: mac1, model: 'VVX1500' });
    const m = vvx.params.get('dir.local.contacts.maxNum')!;
    expect(m.value).toBe('9999');
    expect(m.shadowed.map((s) => s.value)).toEqual(['200', '500']);
    expect(vvx.params.has('dir.local.contacts.maxNum.VVX1500')).toBe(false);
    expect(vvx.params.has('voice.x')).toBe(false);
    const ip650 = await resolvePhone(tree, { mac: mac1, model: 'SPIP650' });
    expect(ip650.params.get('dir.local.contacts.maxNum')?.value).toBe('200');
    expect(ip650.params.get('voice.x')?.value).toBe('7'); // SIP 2.x .IP_650 spelling
    const unknown = await resolvePhone(tree, { mac: mac1 });
    expect(unknown.params.get('dir.local.contacts.maxNum')?.value).toBe('200');
  });

  test('white paper, device.set: device.* values apply only with device.set="1" and their own .set="1"', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    expect(r.params.get('device.net.vlanId')).toMatchObject({ value: '10', applied: true });
    expect(r.params.get('device.net.vlanId')?.reason).toBeUndefined();
    expect(r.params.get('device.sntp.serverName')).toMatchObject({ applied: false, reason: expect.stringMatching(/device\.sntp\.serverName\.set is "0"/) });
    expect(r.params.get('device.syslog.serverName')).toMatchObject({ applied: false, reason: expect.stringMatching(/not set/) });
    expect(r.params.get('device.set')?.applied).toBe(true);
    expect(r.params.get('device.sntp.serverName.set')?.applied).toBe(true);

    const off = await resolvePhone(
      new MemTree({ '000000000000.cfg': master('CONFIG_FILES="d.cfg"'), 'd.cfg': '<device device.set="0" device.net.vlanId="10" device.net.vlanId.set="1"/>' }),
      { mac: mac1 },
    );
    expect(off.params.get('device.net.vlanId')).toMatchObject({ applied: false, reason: expect.stringMatching(/device\.set is "0"/) });
    expect(off.params.get('device.net.vlanId.set')?.applied).toBe(true);
  });

  test('a file listed twice adds no shadowed duplicates', async () => {
    const tree = new MemTree({ '000000000000.cfg': master('CONFIG_FILES="a.cfg, a.cfg"'), 'a.cfg': '<c x.y="1"/>' });
    const r = await resolvePhone(tree, { mac: mac1 });
    expect(r.configFiles).toHaveLength(2);
    expect(r.params.get('x.y')?.shadowed).toEqual([]);
  });
});

describe('toExplainJson (issue 3, explain --json shape)', () => {
  test('exactly the documented keys, file names relative to the root, secrets masked unless asked', async () => {
    const r = await resolvePhone(basic, { mac: mac1, model: 'SPIP650' });
    const j = toExplainJson(r, { showSecrets: false });
    expect(Object.keys(j)).toEqual(['master', 'application', 'configFiles', 'directories', 'directory', 'uploads', 'stored', 'notes', 'params']);
    expect(Object.keys(j.directories)).toEqual(['logs', 'overrides', 'contacts', 'licenses']);
    expect(j.configFiles.every((c) => Object.keys(c).join() === 'name,found')).toBe(true);
    expect(j.configFiles[4]!.name).toBe('ftp://prov:***@192.0.2.10/extra.cfg');
    const pw = j.params['reg.1.auth.password']!;
    expect(pw).toEqual({
      value: '********',
      source: { file: '0004f2000001-user.cfg', line: 3 },
      shadowed: [{ value: '********', source: { file: 'site.cfg', line: 10 } }],
      applied: true,
    });
    expect(JSON.stringify(j)).not.toMatch(/sitewide-secret|s3cretPass|w&lt;rd|w<rd/);
    expect(Object.keys(j.params['device.syslog.serverName']!)).toEqual(['value', 'source', 'shadowed', 'applied', 'reason']);
    const shown = toExplainJson(r, { showSecrets: true });
    expect(shown.params['reg.1.auth.password']!.value).toBe(`p&ss"w<rd'>`);
    expect(shown.params['reg.1.auth.password']!.shadowed[0]!.value).toBe('sitewide-secret');
  });
});
