// The hand-worked tree of the virtual phone's equality tests (issue 12 item 7): a small tree written
// from the white paper and the effective configuration a VVX410 with MAC 0004f2000001 must end with,
// worked out by hand from the documents' precedence rules (white paper, Default Configuration
// Parameter Values: <MAC>-phone.cfg, then <MAC>-web.cfg, then CONFIG_FILES; white paper,
// CONFIG_FILES: "the leftmost files take precedence"). Used by explain-equality.test.ts and
// ftps-explicit.test.ts; the values are literal, never computed by the resolver.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { makeImage } from '../../src/phone/image-header.ts';

export const MAC = '0004f2000001' as Mac;

/**
 * The tree, written from the white paper (Master Configuration File; Default Configuration
 * Parameter Values). Line numbers matter: every parameter's source is file:line.
 */
export const TREE: Record<string, string | Buffer> = {
  '000000000000.cfg': [
    '<?xml version="1.0" standalone="yes"?>',
    '<!-- white paper, Master Configuration File: CONFIG_FILES left to right, the leftmost wins -->',
    '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, site.cfg" MISC_FILES=""',
    '  LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY=""/>',
    '',
  ].join('\n'),
  [`${MAC}-user.cfg`]: [
    '<polycomConfig>',
    '  <reg reg.1.address="1001" reg.1.label="Alice" reg.1.auth.password="user-secret-1"/>',
    '  <tcpIpApp tcpIpApp.sntp.address="user.ntp.example.com"/>',
    '</polycomConfig>',
    '',
  ].join('\n'),
  'site.cfg': [
    '<polycomConfig>',
    '  <reg reg.1.address="site-default" reg.1.label="Site label"/>',
    '  <tcpIpApp tcpIpApp.sntp.address="site.ntp.example.com" tcpIpApp.sntp.gmtOffset="3600"/>',
    '  <up up.backlight.idleIntensity="2"/>',
    '  <lcl lcl.ml.lang="English_United_States"/>',
    '</polycomConfig>',
    '',
  ].join('\n'),
  [`overrides/${MAC}-web.cfg`]: [
    '<PHONE_CONFIG>',
    '  <OVERRIDES tcpIpApp.sntp.address="web.ntp.example.com" lcl.ml.lang="Deutsch_Deutschland" up.backlight.idleIntensity="3"/>',
    '</PHONE_CONFIG>',
    '',
  ].join('\n'),
  [`overrides/${MAC}-phone.cfg`]: [
    '<PHONE_CONFIG>',
    '  <OVERRIDES tcpIpApp.sntp.address="keypad.ntp.example.com" up.backlight.idleIntensity="1"/>',
    '</PHONE_CONFIG>',
    '',
  ].join('\n'),
  'sip.ld': makeImage('4.0.15.1009', 2048),
};

const at = (file: string, line: number) => ({ file, line });
const USER = `${MAC}-user.cfg`;
const WEB = `overrides/${MAC}-web.cfg`;
const KEYPAD = `overrides/${MAC}-phone.cfg`;

/** Worked out by hand: the winner of each parameter, then what it shadows in precedence order. */
export const EXPECTED_PARAMS = {
  // web.cfg beats CONFIG_FILES; nothing in phone.cfg
  'lcl.ml.lang': { value: 'Deutsch_Deutschland', source: at(WEB, 2), shadowed: [{ value: 'English_United_States', source: at('site.cfg', 5) }], applied: true },
  // leftmost CONFIG_FILES entry wins
  'reg.1.address': { value: '1001', source: at(USER, 2), shadowed: [{ value: 'site-default', source: at('site.cfg', 2) }], applied: true },
  // a secret is masked in the record, as explain masks it
  'reg.1.auth.password': { value: '********', source: at(USER, 2), shadowed: [], applied: true },
  'reg.1.label': { value: 'Alice', source: at(USER, 2), shadowed: [{ value: 'Site label', source: at('site.cfg', 2) }], applied: true },
  // phone.cfg beats web.cfg beats the leftmost CONFIG_FILES entry beats the next one
  'tcpIpApp.sntp.address': {
    value: 'keypad.ntp.example.com',
    source: at(KEYPAD, 2),
    shadowed: [
      { value: 'web.ntp.example.com', source: at(WEB, 2) },
      { value: 'user.ntp.example.com', source: at(USER, 3) },
      { value: 'site.ntp.example.com', source: at('site.cfg', 3) },
    ],
    applied: true,
  },
  // only one file sets it
  'tcpIpApp.sntp.gmtOffset': { value: '3600', source: at('site.cfg', 3), shadowed: [], applied: true },
  'up.backlight.idleIntensity': {
    value: '1',
    source: at(KEYPAD, 2),
    shadowed: [
      { value: '3', source: at(WEB, 2) },
      { value: '2', source: at('site.cfg', 4) },
    ],
    applied: true,
  },
};
export const EXPECTED_CONFIG_FILES = [
  { name: USER, found: true },
  { name: 'site.cfg', found: true },
];

/** Writes TREE under `root`. */
export async function writeHandWorkedTree(root: string): Promise<void> {
  for (const [name, body] of Object.entries(TREE)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), body);
  }
}

export type Effective = { master: { file: string } | null; configFiles: unknown; params: unknown };
export function expectTheHandWorkedConfiguration(effective: Effective | undefined): void {
  expect(effective?.master?.file).toBe('000000000000.cfg');
  expect(effective?.configFiles).toEqual(EXPECTED_CONFIG_FILES);
  expect(effective?.params).toEqual(EXPECTED_PARAMS);
}
