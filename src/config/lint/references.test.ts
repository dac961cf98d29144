import { describe, expect, test } from 'vitest';
import { cleanTree, lintFiles, withCode } from './lint-test-util.ts';

const master = (attrs: string) => `<APPLICATION ${attrs}/>`;

describe('lint: references', () => {
  test('white paper, Master Configuration File: a CONFIG_FILES entry missing from the tree is an error at the attribute', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': '<?xml version="1.0"?>\n<APPLICATION APP_FILE_PATH=""\n  CONFIG_FILES="site.cfg, features.cfg"/>\n' }));
    const e = withCode(f, 'PP_CFG_FILE_MISSING');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ severity: 'error', file: '000000000000.cfg', line: 3, column: 3 });
    expect(e[0]!.message).toContain('features.cfg');
  });

  test('white paper, CONFIG_FILES: full URLs on other servers are not checked', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': master('APP_FILE_PATH="" CONFIG_FILES="site.cfg, http://u:p@other/x.cfg"') }));
    expect(withCode(f, 'PP_CFG_FILE_MISSING')).toEqual([]);
  });

  test('facts §1.4: [PHONE_MAC_ADDRESS] entries are checked for <MAC>.cfg masters, not for 000000000000.cfg', async () => {
    const f = await lintFiles(
      cleanTree({
        '000000000000.cfg': master('APP_FILE_PATH="" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg"'),
        '0004f2000001.cfg': master('APP_FILE_PATH="" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg"'),
      }),
    );
    const e = withCode(f, 'PP_CFG_FILE_MISSING');
    expect(e).toHaveLength(1);
    expect(e[0]!.file).toBe('0004f2000001.cfg');
    expect(e[0]!.message).toContain('0004f2000001-user.cfg');
  });

  test('model-specific CONFIG_FILES_<MODEL> are checked (facts §1.3)', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg"><APPLICATION_SPIP300 CONFIG_FILES_SPIP300="phone1_213.cfg"/></APPLICATION>' }));
    expect(withCode(f, 'PP_CFG_FILE_MISSING').map((x) => x.message.includes('phone1_213.cfg'))).toEqual([true]);
  });

  test('SIP 2.0 Administrator\'s Guide, master file limits: entry over 255, list over 2047', async () => {
    const long = 'd/'.repeat(130) + 'x.cfg';
    const many = Array.from({ length: 120 }, (_, i) => `dir${i}/file-number-${i}.cfg`).join(', ');
    const f1 = await lintFiles(cleanTree({ '000000000000.cfg': master(`APP_FILE_PATH="" CONFIG_FILES="${long}, site.cfg"`), [long]: '<c/>' }));
    expect(withCode(f1, 'PP_CFG_ENTRY_TOO_LONG')).toHaveLength(1);
    const f2 = await lintFiles(cleanTree({ '000000000000.cfg': master(`APP_FILE_PATH="" CONFIG_FILES="${many}"`) }));
    expect(withCode(f2, 'PP_CFG_LIST_TOO_LONG')).toHaveLength(1);
  });

  test('facts §1.5: APP_FILE_PATH sip.ld absent is a warning; <part>.sip.ld present satisfies it', async () => {
    const m = '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"/>';
    const missing = await lintFiles(cleanTree({ '000000000000.cfg': m }));
    expect(withCode(missing, 'PP_CFG_FILE_MISSING').map((x) => x.severity)).toEqual(['warning']);
    const split = await lintFiles(cleanTree({ '000000000000.cfg': m, '2345-12600-001.sip.ld': 'image' }));
    expect(withCode(split, 'PP_CFG_FILE_MISSING')).toEqual([]);
    const combined = await lintFiles(cleanTree({ '000000000000.cfg': m, 'sip.ld': 'image' }));
    expect(withCode(combined, 'PP_CFG_FILE_MISSING')).toEqual([]);
  });
});

describe('lint: master-file attributes and tokens', () => {
  test('facts §1.3: a misspelt master attribute (CONFIG_FILE) is a warning naming CONFIG_FILES', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILE="site.cfg" CONFIG_FILES="site.cfg"/>' }));
    const w = withCode(f, 'PP_PARAM_UNKNOWN');
    expect(w).toHaveLength(1);
    expect(w[0]!.hint).toContain('CONFIG_FILES');
  });

  test('facts §1.3: every attribute of the genuine UCS 5.9.8 master file is known', async () => {
    const m = '<APPLICATION APP_FILE_PATH="" DECT_FILE_PATH="" CONFIG_FILES="site.cfg" SERVICE_FILES="" MISC_FILES="" LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY="" USER_PROFILES_DIRECTORY="" CALL_LISTS_DIRECTORY="" COREFILE_DIRECTORY="" CERTIFICATE_DIRECTORY="" FLK_DIRECTORY=""><APPLICATION_VVX1500 APP_FILE_PATH_VVX1500="" BOOTBLOCK_FILE_PATH_VVX1500="" CONFIG_FILES_VVX1500=""/></APPLICATION>';
    expect(withCode(await lintFiles(cleanTree({ '000000000000.cfg': m })), 'PP_PARAM_UNKNOWN')).toEqual([]);
  });

  test('white paper: an unknown [TOKEN] is requested literally, so the file is missing', async () => {
    const f = await lintFiles(cleanTree({ '000000000000.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="[PHONE_MODEL]-site.cfg, site.cfg"/>' }));
    const e = withCode(f, 'PP_CFG_FILE_MISSING');
    expect(e).toHaveLength(1);
    expect(e[0]!.hint).toContain('[PHONE_MODEL_NUMBER]');
  });

  test('issue 13 item 23, white paper, Master Configuration File: a tree with no master file is an error', async () => {
    const none = withCode(await lintFiles({ 'site.cfg': '<s httpd.cfg.enabled="0"/>' }), 'PP_CFG_NO_MASTER');
    expect(none).toHaveLength(1);
    expect(none[0]).toMatchObject({ severity: 'error' });
    expect(withCode(await lintFiles(cleanTree()), 'PP_CFG_NO_MASTER')).toEqual([]);
    // A <MAC>.cfg master alone is a master; a 000000000000.cfg that is not one is PP_CFG_NOT_MASTER instead.
    expect(withCode(await lintFiles({ '0004f2000001.cfg': master('APP_FILE_PATH="" CONFIG_FILES=""') }), 'PP_CFG_NO_MASTER')).toEqual([]);
    expect(withCode(await lintFiles({ '000000000000.cfg': '<polycomConfig/>' }), 'PP_CFG_NO_MASTER')).toEqual([]);
  });

  test('issue 13 item 23, Administrator\'s Guide, Supported Provisioning Protocols note: spaces, backslashes and % escapes in CONFIG_FILES are errors', async () => {
    const files = { 'my site.cfg': '<s/>', 'dir\\x.cfg': '<s/>', 'a%20b.cfg': '<s/>' };
    const bad = withCode(await lintFiles(cleanTree({ ...files, '000000000000.cfg': master('APP_FILE_PATH="" CONFIG_FILES="site.cfg, my site.cfg, dir\\x.cfg, a%20b.cfg"') })), 'PP_CFG_ENTRY_CHARS');
    expect(bad.map((e) => /entry "([^"]+)"/.exec(e.message)?.[1])).toEqual(['my site.cfg', 'dir\\x.cfg', 'a%20b.cfg']);
    expect(bad.every((e) => e.severity === 'error' && e.file === '000000000000.cfg')).toBe(true);
    // Server Menu: user and password in a URL may be RFC 1738-escaped; forward slashes and plain names are fine.
    const ok = await lintFiles(cleanTree({ 'phones/x.cfg': '<s/>', '000000000000.cfg': master('APP_FILE_PATH="" CONFIG_FILES="site.cfg, phones/x.cfg, ftp://us%40er:p%3Aw@10.0.0.1/y.cfg"') }));
    expect(withCode(ok, 'PP_CFG_ENTRY_CHARS')).toEqual([]);
  });
});
