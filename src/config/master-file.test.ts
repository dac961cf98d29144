import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { applyMaster, imageCandidates, maskUrlCredentials, masterFindings, parseMasterFile, splitConfigFiles, substituteTokens } from './master-file.ts';
import type { Mac, PhoneIdentity } from './types.ts';

const mac = '0004f2123456' as Mac;
const ip650: PhoneIdentity = { mac, model: 'SPIP650', partNumber: '2345-12600-001' };
const ip500: PhoneIdentity = { mac, model: 'SPIP500' };

// Administrator's Guide, "Supporting SoundPoint IP 300 and 500 Phones" (SEED-AG L1703–1722).
const SIP22 = `<APPLICATION
APP_FILE_PATH="sip.ld"
APP_FILE_PATH_SPIP500="sip_212.ld"
APP_FILE_PATH_SPIP300="sip_212.ld"
 CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, phone1.cfg, sip.cfg"
CONFIG_FILES_SPIP500="[PHONE_MAC_ADDRESS]-user.cfg,
phone1_212.cfg, sip_212.cfg"
CONFIG_FILES_SPIP300="[PHONE_MAC_ADDRESS]-user.cfg, phone1_212.cfg, sip_212.cfg"
MISC_FILES="" LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY=""
/>`;

// UCS 5.9.8 distribution master file (facts §1.3), abridged.
const UCS598 = `<?xml version="1.0" standalone="yes"?>
<APPLICATION APP_FILE_PATH="sip.ld" DECT_FILE_PATH="3111-17823-001.dect.ld" CONFIG_FILES="" SERVICE_FILES="" MISC_FILES=""
  LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY="" USER_PROFILES_DIRECTORY=""
  CALL_LISTS_DIRECTORY="" COREFILE_DIRECTORY="" CERTIFICATE_DIRECTORY="" FLK_DIRECTORY="">
  <APPLICATION_SPIP300 APP_FILE_PATH_SPIP300="sip_213.ld" CONFIG_FILES_SPIP300="phone1_213.cfg, sip_213.cfg" />
  <APPLICATION_SPIP500 APP_FILE_PATH_SPIP500="sip_213.ld" CONFIG_FILES_SPIP500="phone1_213.cfg, sip_213.cfg" />
  <APPLICATION_SPIP670 APP_FILE_PATH_SPIP670="sip_404.ld" CONFIG_FILES_SPIP670="" />
  <APPLICATION_SSIP7000 APP_FILE_PATH_SSIP7000="sip_404.ld" CONFIG_FILES_SSIP7000="" />
  <APPLICATION_VVX1500 APP_FILE_PATH_VVX1500="sip_590.ld" CONFIG_FILES_VVX1500="" BOOTBLOCK_FILE_PATH_VVX1500="bootblock.ld"/>
</APPLICATION>`;

describe('master file', () => {
  test('Administrator\'s Guide, Master Configuration Files: the root must be APPLICATION (PP_CFG_NOT_MASTER)', () => {
    try {
      parseMasterFile('<!-- x -->\n<polycomConfig a="1"/>', 'm.cfg');
      expect.unreachable();
    } catch (e) {
      expect(isProvError(e) && e.code).toBe('PP_CFG_NOT_MASTER');
      expect(isProvError(e) && [e.line, e.column]).toEqual([2, 1]);
    }
  });

  test('facts §1.3: every attribute of every element is kept with its position; element names do not matter', () => {
    const m = parseMasterFile('<APPLICATION MISC_FILES="">\n  <Software APP_FILE_PATH="x/sip.ld"/>\n  <Configuration CONFIG_FILES="a.cfg" CUSTOM_THING="1"/>\n</APPLICATION>', 'm.cfg');
    expect(m.attrs.map((a) => [a.name, a.value, a.pos.line, a.pos.column])).toEqual([
      ['MISC_FILES', '', 1, 14],
      ['APP_FILE_PATH', 'x/sip.ld', 2, 13],
      ['CONFIG_FILES', 'a.cfg', 3, 18],
      ['CUSTOM_THING', '1', 3, 39],
    ]);
    const em = applyMaster(m, ip650);
    expect(em.appFilePath).toBe('x/sip.ld');
    expect(em.configFiles).toEqual(['a.cfg']);
    expect(em.attrs.CUSTOM_THING).toBe('1');
  });

  test('Administrator\'s Guide, Supporting SoundPoint IP 300 and 500 Phones: suffixed attributes on APPLICATION win for that model only', () => {
    const m = parseMasterFile(SIP22, 'm.cfg');
    const e500 = applyMaster(m, ip500);
    expect(e500.appFilePath).toBe('sip_212.ld');
    expect(e500.configFiles).toEqual([`${mac}-user.cfg`, 'phone1_212.cfg', 'sip_212.cfg']);
    expect(e500.sources.APP_FILE_PATH!.name).toBe('APP_FILE_PATH_SPIP500');
    const e650 = applyMaster(m, ip650);
    expect(e650.appFilePath).toBe('sip.ld');
    expect(e650.configFiles).toEqual([`${mac}-user.cfg`, 'phone1.cfg', 'sip.cfg']);
    // No model known: the generic values.
    expect(applyMaster(m, { mac }).appFilePath).toBe('sip.ld');
  });

  test('facts §1.3, UCS 5.9.8 master: model-specific child elements, unknown attributes such as DECT_FILE_PATH kept', () => {
    const m = parseMasterFile(UCS598, '000000000000.cfg');
    const vvx = applyMaster(m, { mac, model: 'VVX1500', partNumber: '2345-17960-001' });
    expect(vvx.appFilePath).toBe('sip_590.ld');
    expect(vvx.appFileCandidates).toEqual(['sip_590.ld']);
    expect(vvx.configFiles).toEqual([]);
    expect(vvx.attrs.BOOTBLOCK_FILE_PATH).toBe('bootblock.ld');
    expect(vvx.attrs.DECT_FILE_PATH).toBe('3111-17823-001.dect.ld');
    expect(vvx.directories.FLK_DIRECTORY).toBe('');
    expect(Object.keys(vvx.directories)).toContain('CALL_LISTS_DIRECTORY');
    const s300 = applyMaster(m, { mac, model: 'SPIP300' });
    expect(s300.configFiles).toEqual(['phone1_213.cfg', 'sip_213.cfg']);
    // A model with no line of its own (SPIP650) gets the generic APPLICATION values.
    const s650 = applyMaster(m, ip650);
    expect(s650.appFileCandidates).toEqual(['2345-12600-001.sip.ld', 'sip.ld']);
    expect(s650.attrs.BOOTBLOCK_FILE_PATH).toBeUndefined();
  });

  test('white paper, Master Configuration File: [PHONE_MAC_ADDRESS], [PHONE_MODEL_NUMBER], [PHONE_PART_NUMBER] are substituted', () => {
    const phone: PhoneIdentity = { mac: '0004f2abcdef' as Mac, model: 'SPIP650', partNumber: '2345-12600-001' };
    expect(substituteTokens('[PHONE_MAC_ADDRESS]-user.cfg, [PHONE_MODEL_NUMBER].cfg, [PHONE_PART_NUMBER].sip.ld', phone)).toBe(
      '0004f2abcdef-user.cfg, SPIP650.cfg, 2345-12600-001.sip.ld',
    );
    // Case-sensitive, brackets required (facts §1.4).
    expect(substituteTokens('PHONE_MAC_ADDRESS [phone_mac_address]', phone)).toBe('PHONE_MAC_ADDRESS [phone_mac_address]');
    const m = parseMasterFile('<APPLICATION APP_FILE_PATH="[PHONE_PART_NUMBER].sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS].cfg" LOG_FILE_DIRECTORY="logs/[PHONE_MAC_ADDRESS]"/>', 'm.cfg');
    const em = applyMaster(m, phone);
    expect(em.appFilePath).toBe('2345-12600-001.sip.ld');
    expect(em.configFiles).toEqual(['0004f2abcdef.cfg']);
    expect(em.directories.LOG_FILE_DIRECTORY).toBe('logs/0004f2abcdef');
  });

  test('white paper, CONFIG_FILES: split on commas, trimmed, empty entries dropped, URLs kept', () => {
    expect(splitConfigFiles(' a.cfg ,b.cfg,, , sub/c.cfg,ftp://u:p@h/x.cfg ')).toEqual(['a.cfg', 'b.cfg', 'sub/c.cfg', 'ftp://u:p@h/x.cfg']);
    expect(splitConfigFiles('')).toEqual([]);
  });

  test('white paper, CONFIG_FILES: credentials in URL entries are hidden in any printed form', () => {
    expect(maskUrlCredentials('ftp://user:secret@host/x.cfg')).toBe('ftp://user:***@host/x.cfg');
    expect(maskUrlCredentials('https://u:p%40ss@h:443/d/x.cfg')).toBe('https://u:***@h:443/d/x.cfg');
    expect(maskUrlCredentials('http://host/x.cfg')).toBe('http://host/x.cfg');
    expect(maskUrlCredentials('tftp://user@host/x.cfg')).toBe('tftp://user@host/x.cfg');
    expect(maskUrlCredentials('site.cfg')).toBe('site.cfg');
  });

  test('Administrator\'s Guide: sip.ld becomes <part>.sip.ld, falling back to sip.ld; none when APP_FILE_PATH is empty', () => {
    expect(imageCandidates('sip.ld', '2345-11605-001')).toEqual(['2345-11605-001.sip.ld', 'sip.ld']);
    expect(imageCandidates('fw/5.9/sip.ld', '2345-11605-001')).toEqual(['fw/5.9/2345-11605-001.sip.ld', 'fw/5.9/sip.ld']);
    expect(imageCandidates('sip.ld')).toEqual(['sip.ld']);
    expect(imageCandidates('sip_212.ld', '2345-11605-001')).toEqual(['sip_212.ld']);
    expect(imageCandidates('', '2345-11605-001')).toEqual([]);
    const em = applyMaster(parseMasterFile('<APPLICATION APP_FILE_PATH="" CONFIG_FILES=""/>', 'm.cfg'), ip650);
    expect(em.appFilePath).toBeNull();
    expect(em.appFileCandidates).toEqual([]);
  });

  test('SIP 2.0 Administrator\'s Guide limits: entries over 255 and lists over 2047 characters are reported with positions', () => {
    const long = 'd/'.repeat(130) + 'x.cfg'; // 265 characters
    const list = Array.from({ length: 120 }, (_, i) => `directory/config-file-${String(i).padStart(3, '0')}.cfg`).join(', ');
    expect(list.length).toBeGreaterThan(2047);
    const m = parseMasterFile(`<APPLICATION APP_FILE_PATH="${'a'.repeat(256)}"\n CONFIG_FILES="ok.cfg, ${long}">\n <X CONFIG_FILES_SPIP650="${list}"/></APPLICATION>`, 'm.cfg');
    const f = masterFindings(m);
    expect(f.map((e) => [e.code, e.line])).toEqual([
      ['PP_CFG_ENTRY_TOO_LONG', 1],
      ['PP_CFG_ENTRY_TOO_LONG', 2],
      ['PP_CFG_LIST_TOO_LONG', 3],
    ]);
    expect(f[1]!.column).toBe(2);
    const ok = parseMasterFile(`<APPLICATION APP_FILE_PATH="${'a'.repeat(255)}" CONFIG_FILES="${'b'.repeat(255)}"/>`, 'm.cfg');
    expect(masterFindings(ok)).toEqual([]);
  });
});
