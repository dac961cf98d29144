// Issue 7: the effective configuration the virtual phone ends with is what `polyprov explain` says,
// over every transport. Issue 12 item 7: both are compared with fixed values (hand-worked-tree.ts), worked
// out by hand from the documents' precedence rules, not with a second resolvePhone call (the phone
// computes its configuration with that same resolver, so comparing the two could not catch a
// resolution error). White paper, Default Configuration Parameter Values: <MAC>-phone.cfg, then
// <MAC>-web.cfg, then CONFIG_FILES; white paper, CONFIG_FILES: "the leftmost files take precedence".
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootPhone } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { writeCertificate } from '../support/certs.ts';
import { expectTheHandWorkedConfiguration, MAC, writeHandWorkedTree, type Effective } from './hand-worked-tree.ts';
import { runCli, startServe, type ServeChild } from './serve-child.ts';

let dir: string;
let root: string;
let open: ServeChild;
let accounts: ServeChild;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-explain-'));
  root = join(dir, 'root');
  await writeHandWorkedTree(root);
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
}, 120_000); // serve children start in seconds alone, over 20 s under the shared machine's load

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
