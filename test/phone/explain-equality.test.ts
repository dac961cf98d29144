// Issue 7: the effective configuration the virtual phone ends with is what `polyprov explain` says,
// over every transport. Issue 12 item 7: both are compared with fixed values written below, worked
// out by hand from the documents' precedence rules, not with a second resolvePhone call (the phone
// computes its configuration with that same resolver, so comparing the two could not catch a
// resolution error). White paper, Default Configuration Parameter Values: <MAC>-phone.cfg, then
// <MAC>-web.cfg, then CONFIG_FILES; white paper, CONFIG_FILES: "the leftmost files take precedence".
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { writeCertificate } from '../support/certs.ts';
import { runCli, startServe, type ServeChild } from './serve-child.ts';

const MAC = '0004f2000001' as Mac;

/**
 * The tree, written from the white paper (Master Configuration File; Default Configuration
 * Parameter Values). Line numbers matter: every parameter's source is file:line.
 */
const TREE: Record<string, string | Buffer> = {
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
const EXPECTED_PARAMS = {
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
const EXPECTED_CONFIG_FILES = [
  { name: USER, found: true },
  { name: 'site.cfg', found: true },
];

let dir: string;
let root: string;
let open: ServeChild;
let accounts: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-explain-'));
  root = join(dir, 'root');
  for (const [name, body] of Object.entries(TREE)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), body);
  }
  writeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] }); // made in Node, no openssl (issue 13 item 1)
  const add = await runCli(['accounts', 'add', '--kind', 'site', '--password-stdin', '--data', join(dir, 'data-acc'), 'siteuser'], 'Site-Pass-1\n');
  expect(add.code, add.stderr).toBe(0);
  open = await startServe(['--root', root, '--policy', 'open', '--data', join(dir, 'data-open'), '--log-level', 'error'], ['http', 'tftp']);
  accounts = await startServe(
    ['--root', root, '--policy', 'accounts', '--data', join(dir, 'data-acc'), '--log-level', 'error', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')],
    // HTTP beside HTTPS: with Server Type HTTPS the bootROM stage speaks HTTP (Administrator's Guide,
    // Supported Provisioning Protocols).
    ['https', 'ftp', 'ftps', 'http'],
  );
}, 60_000);

afterAll(async () => {
  await open?.stop();
  await accounts?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function bootOver(url: string) {
  return bootPhone({
    server: parseServerAddress(url),
    profile: { mac: MAC, model: 'VVX410', bootromVersion: '5.0.0.0001', appVersion: '3.3.0.0000' },
    state: new MemoryState(),
    // Logs only: uploads of overrides would change what the server holds.
    settings: { tries: 1, retryWaitSec: 0, bootromHttpPort: accounts.ports.http },
    env: { makeClient: clientFactory({ timeoutMs: 5000, ca: undefined, rejectUnauthorized: false }) },
  });
}

type Effective = { master: { file: string } | null; configFiles: unknown; params: unknown };
function expectTheHandWorkedConfiguration(effective: Effective | undefined): void {
  expect(effective?.master?.file).toBe('000000000000.cfg');
  expect(effective?.configFiles).toEqual(EXPECTED_CONFIG_FILES);
  expect(effective?.params).toEqual(EXPECTED_PARAMS);
}

describe('issue 12 item 7: the phone ends with the hand-worked configuration, and so does polyprov explain', () => {
  test('white paper, Default Configuration Parameter Values: polyprov explain --json reads the tree to the fixed values', async () => {
    const ex = await runCli(['explain', root, '--mac', MAC, '--model', 'VVX410', '--json']);
    expect(ex.code, ex.stderr).toBe(0);
    expectTheHandWorkedConfiguration(JSON.parse(ex.stdout) as Effective);
  });

  test('white paper, Default Configuration Parameter Values: over HTTP', async () => {
    const rec = await bootOver(`http://127.0.0.1:${open.ports.http}/`);
    expect(rec.configFrom).toBe('server');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('white paper, Default Configuration Parameter Values: over TFTP', async () => {
    const rec = await bootOver(`tftp://127.0.0.1:${open.ports.tftp}/`);
    expect(rec.configFrom).toBe('server');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('white paper, Default Configuration Parameter Values: over HTTPS with Digest from a site account', async () => {
    const rec = await bootOver(`https://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.https}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.stages.map((s) => s.protocol)).toEqual(['http', 'https']);
    expect(rec.requests.filter((r) => r.status === 'denied' || r.status === 'error')).toEqual([]);
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('white paper, Default Configuration Parameter Values: over passive FTP with a site account (SEED-AG, Server Menu)', async () => {
    const rec = await bootOver(`ftp://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.ftp}/`);
    expect(rec.configFrom).toBe('server');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('white paper, Default Configuration Parameter Values: over implicit FTPS (Server Type 4), data connections protected (RFC 4217)', async () => {
    const rec = await bootOver(`ftps://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.ftps}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.requests.filter((r) => r.status === 'error')).toEqual([]);
    expect(rec.image.action).toBe('downloaded');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('CLI: polyprov phone boot --json prints the fixed values, secrets masked', async () => {
    const r = await runCli(['phone', 'boot', '--server', `http://127.0.0.1:${open.ports.http}/`, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { effective: Effective; requests: unknown[] };
    expect(rec.requests.length).toBeGreaterThan(10);
    expectTheHandWorkedConfiguration(rec.effective);
    expect(r.stdout).not.toContain('user-secret-1');
  });

  test('SEED-AG, Supported Provisioning Protocols (HTTPS): the server certificate is checked against --ca; without it the phone cannot contact the server', async () => {
    const url = `https://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.https}/`;
    const http = ['--bootrom-http-port', String(accounts.ports.http)];
    const ok = await runCli(['phone', 'boot', '--server', url, ...http, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--ca', join(dir, 'cert.pem'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expectTheHandWorkedConfiguration((JSON.parse(ok.stdout) as { effective: Effective }).effective);
    expect(ok.stdout).not.toContain('Site-Pass-1');
    const bad = await runCli(['phone', 'boot', '--server', url, ...http, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--json']);
    expect(bad.code).toBe(1);
    const rec = JSON.parse(bad.stdout) as { contacted: boolean; requests: Array<{ stage: string; error?: string }> };
    expect(rec.contacted).toBe(false);
    expect(rec.requests.find((r) => r.stage === 'application')!.error).toMatch(/self[- ]signed|certificate/i);
  });
});
