import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { CLEAN_SITE, cleanTree, lintFiles, withCode } from './lint-test-util.ts';

/** The genuine UCS 5.x template (../shared/real-configs/README.md); the test is skipped where it is absent. */
const REAL_SITE = fileURLToPath(new URL('../../../../shared/real-configs/ucs-5.x/site.cfg', import.meta.url));

const site = (attrs: string) => CLEAN_SITE.replace('<httpd ', `<x ${attrs}/>\n  <httpd `);

describe('lint: security', () => {
  test('Administrator\'s Guide: "The factory default password is 456" is a warning', async () => {
    const f = await lintFiles(cleanTree({ 'phones/0004f2000001.cfg': '<p device.auth.localAdminPassword="456"/>' }));
    expect(withCode(f, 'PP_SEC_FACTORY_ADMIN_PASSWORD').map((x) => x.severity)).toEqual(['warning']);
  });

  test('Administrator\'s Guide: factory provisioning account PlcmSpIp is a warning (user, password, URL)', async () => {
    const f = await lintFiles(
      cleanTree({
        'phones/0004f2000001.cfg': '<p device.prov.user="PlcmSpIp" device.prov.password="PlcmSpIp"/>',
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, site.cfg, ftp://PlcmSpIp:PlcmSpIp@10.0.0.1/x.cfg"/>',
      }),
    );
    expect(withCode(f, 'PP_SEC_FACTORY_PROV_ACCOUNT')).toHaveLength(3);
  });

  test('issue 3: a SIP password in a file every phone reads is an error', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': site('reg.1.auth.password="hunter2"') }));
    const e = withCode(f, 'PP_SEC_SHARED_SECRET');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ severity: 'error', file: 'site.cfg' });
    expect(e[0]!.message).not.toContain('hunter2');
  });

  test('issue 3: the same password in a per-phone [PHONE_MAC_ADDRESS] file is fine', async () => {
    const f = await lintFiles(cleanTree({ 'phones/0004f2000001.cfg': '<p reg.1.auth.password="hunter2"/>' }));
    expect(withCode(f, 'PP_SEC_SHARED_SECRET')).toEqual([]);
  });

  test('issue 13 item 6: a secret in a file two phones\' <MAC>.cfg masters list is reported, naming both', async () => {
    const perPhone = (files: string) => `<APPLICATION APP_FILE_PATH="" CONFIG_FILES="${files}, site.cfg"/>`;
    const f = await lintFiles(
      cleanTree({
        '0004f2000001.cfg': perPhone('bob.cfg'),
        '0004f2000002.cfg': perPhone('bob.cfg'),
        'bob.cfg': '<p reg.2.address="2002" reg.2.auth.password="bobs-secret"/>',
      }),
    );
    const e = withCode(f, 'PP_SEC_SHARED_SECRET');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ severity: 'error', file: 'bob.cfg' });
    expect(e[0]!.message).toContain('0004f2000001.cfg');
    expect(e[0]!.message).toContain('0004f2000002.cfg');
    expect(e[0]!.message).not.toContain('bobs-secret');
  });

  test('issue 13 item 6: the same file listed by one phone\'s master only is that phone\'s file: no report', async () => {
    const f = await lintFiles(
      cleanTree({
        '0004f2000001.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="bob.cfg, site.cfg"/>',
        'bob.cfg': '<p reg.2.address="2002" reg.2.auth.password="bobs-secret"/>',
      }),
    );
    expect(withCode(f, 'PP_SEC_SHARED_SECRET')).toEqual([]);
  });

  test('issue 13 item 7: a user and password in a CONFIG_FILES or APP_FILE_PATH URL is a warning at the master, password not echoed', async () => {
    const f = await lintFiles(
      cleanTree({
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="ftp://img:Im4ge-pw@10.0.0.6/sip.ld" CONFIG_FILES="phones/[PHONE_MAC_ADDRESS].cfg, site.cfg, https://prov:Pr0v-pw@10.0.0.5/extra.cfg"/>',
      }),
    );
    const w = withCode(f, 'PP_SEC_URL_CREDENTIALS');
    expect(w.map((x) => [x.file, x.severity])).toEqual([
      ['000000000000.cfg', 'warning'],
      ['000000000000.cfg', 'warning'],
    ]);
    expect(w.map((x) => x.message).join('\n')).not.toMatch(/Im4ge-pw|Pr0v-pw/);
    // A URL without credentials is fine.
    const clean = await lintFiles(cleanTree({ '000000000000.cfg': '<APPLICATION APP_FILE_PATH="https://10.0.0.6/sip.ld" CONFIG_FILES="site.cfg"/>' }));
    expect(withCode(clean, 'PP_SEC_URL_CREDENTIALS')).toEqual([]);
  });

  test('a site-wide admin password shared by every phone is a warning, not an error', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': site('device.auth.localAdminPassword="Zx9-site"') }));
    expect(withCode(f, 'PP_SEC_SHARED_SECRET').map((x) => x.severity)).toEqual(['warning']);
  });

  test('white paper: httpd.cfg.enabled="1" is a warning', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': CLEAN_SITE.replace('httpd.cfg.enabled="0"', 'httpd.cfg.enabled="1"') }));
    const w = withCode(f, 'PP_SEC_WEB_SERVER_ON');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ file: 'site.cfg', line: 3, severity: 'warning' });
  });

  test('templates default httpd.cfg.enabled to 1: a chain that never sets it gets a warning at the master', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': CLEAN_SITE.replace(' httpd.cfg.enabled="0"', '') }));
    const w = withCode(f, 'PP_SEC_WEB_SERVER_ON');
    expect(w).toHaveLength(1);
    expect(w[0]!.file).toBe('000000000000.cfg');
  });

  test('white paper, SIP NOTIFY (Check-Sync): alwaysReboot="1" is a warning', async () => {
    const f = await lintFiles(cleanTree({ 'site.cfg': CLEAN_SITE.replace('alwaysReboot="0"', 'alwaysReboot="1"') }));
    expect(withCode(f, 'PP_SEC_ALWAYS_REBOOT').map((x) => x.severity)).toEqual(['warning']);
  });

  test('alwaysReboot="1" shadowed by a "0" earlier in the chain is not reported', async () => {
    const f = await lintFiles(
      cleanTree({
        'site.cfg': CLEAN_SITE.replace('alwaysReboot="0"', 'alwaysReboot="1"'),
        'overrides/0004f2000001-phone.cfg': '<o voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>',
        '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg" OVERRIDES_DIRECTORY="overrides"/>',
      }),
    );
    // The generic phone (no override file) still reboots: reported once, at site.cfg.
    expect(withCode(f, 'PP_SEC_ALWAYS_REBOOT').map((x) => x.file)).toEqual(['site.cfg']);
  });

  test.skipIf(!existsSync(REAL_SITE))('issue 13 item 11: sec.uploadDevice.privateKey="0" in the genuine UCS 5.x site.cfg is a flag, not a shared secret', async () => {
    const real = readFileSync(REAL_SITE, 'utf8');
    expect(real).toContain('sec.uploadDevice.privateKey="0"');
    const flagged = withCode(await lintFiles(cleanTree({ 'site.cfg': real })), 'PP_SEC_SHARED_SECRET');
    expect(flagged.filter((x) => x.message.includes('sec.uploadDevice.privateKey'))).toEqual([]);
    // The rule still works on that file: a line password added to it is reported.
    const withPassword = real.replace('<sec.uploadDevice ', '<reg reg.1.auth.password="hunter2"/>\n    <sec.uploadDevice ');
    const found = withCode(await lintFiles(cleanTree({ 'site.cfg': withPassword })), 'PP_SEC_SHARED_SECRET');
    expect(found.filter((x) => x.message.startsWith('reg.1.auth.password'))).toHaveLength(1);
  });

  test('issue 13 item 23, Administrator\'s Guide: device settings pushed without an administrator password leave the factory 456, a warning', async () => {
    const unchanged = withCode(await lintFiles(cleanTree({ 'site.cfg': site('device.set="1" device.sntp.serverName="ntp.example.com" device.sntp.serverName.set="1"') })), 'PP_SEC_FACTORY_ADMIN_PASSWORD');
    expect(unchanged).toHaveLength(1);
    expect(unchanged[0]).toMatchObject({ severity: 'warning', file: 'site.cfg' });
    expect(unchanged[0]!.message).toContain('456');
    // With a password of the site's own (applied), or with no device settings pushed at all: no warning.
    const set = await lintFiles(cleanTree({ 'phones/0004f2000001.cfg': '<p/>', 'site.cfg': site('device.set="1" device.auth.localAdminPassword="S3cret-admin" device.auth.localAdminPassword.set="1"') }));
    expect(withCode(set, 'PP_SEC_FACTORY_ADMIN_PASSWORD')).toEqual([]);
    expect(withCode(await lintFiles(cleanTree()), 'PP_SEC_FACTORY_ADMIN_PASSWORD')).toEqual([]);
  });
});
