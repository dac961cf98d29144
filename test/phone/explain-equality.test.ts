// Issue 7: "The effective configuration it ends with must equal `polyprov explain` for the same
// tree and phone: a test asserts it for every transport." The phone boots against `polyprov serve`
// over HTTP, HTTPS, TFTP and FTP; explain reads the same tree from disk.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { runCli, startServe, type ServeChild } from './serve-child.ts';
import { writeCertificate } from '../support/certs.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/trees/basic', import.meta.url));
const MAC = '0004f2000001' as Mac;

let dir: string;
let root: string;
let open: ServeChild;
let accounts: ServeChild;
let explainParams: unknown;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-explain-'));
  root = join(dir, 'root');
  await cp(FIXTURE, root, { recursive: true });
  writeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] }); // made in Node, no openssl (issue 13 item 1)
  const add = await runCli(['accounts', 'add', '--kind', 'site', '--password-stdin', '--data', join(dir, 'data-acc'), 'siteuser'], 'Site-Pass-1\n');
  expect(add.code, add.stderr).toBe(0);
  open = await startServe(['--root', root, '--policy', 'open', '--data', join(dir, 'data-open'), '--log-level', 'error'], ['http', 'tftp']);
  accounts = await startServe(
    ['--root', root, '--policy', 'accounts', '--data', join(dir, 'data-acc'), '--log-level', 'error', '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')],
    ['https', 'ftp', 'ftps'],
  );
  const ex = await runCli(['explain', root, '--mac', MAC, '--model', 'VVX410', '--json']);
  expect(ex.code, ex.stderr).toBe(0);
  explainParams = (JSON.parse(ex.stdout) as { params: unknown }).params;
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
    // Logs only: uploads of overrides would change what the server holds, not the tree explain reads.
    settings: { tries: 1, retryWaitSec: 0 },
    env: { makeClient: clientFactory({ timeoutMs: 5000, ca: undefined, rejectUnauthorized: false }) },
  });
}

describe('issue 7: the phone ends with what polyprov explain says', () => {
  test('white paper, Default Configuration Parameter Values: over HTTP', async () => {
    const rec = await bootOver(`http://127.0.0.1:${open.ports.http}/`);
    expect(rec.configFrom).toBe('server');
    expect(Object.keys(rec.effective!.params).length).toBeGreaterThan(5);
    expect(rec.effective!.params).toEqual(explainParams);
  });

  test('white paper, Default Configuration Parameter Values: over TFTP', async () => {
    const rec = await bootOver(`tftp://127.0.0.1:${open.ports.tftp}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.effective!.params).toEqual(explainParams);
  });

  test('white paper, Default Configuration Parameter Values: over HTTPS with Digest from a site account', async () => {
    const rec = await bootOver(`https://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.https}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.requests.filter((r) => r.status === 'denied')).toEqual([]);
    expect(rec.effective!.params).toEqual(explainParams);
  });

  test('white paper, Default Configuration Parameter Values: over passive FTP with a site account (SEED-AG, Server Menu)', async () => {
    const rec = await bootOver(`ftp://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.ftp}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.effective!.params).toEqual(explainParams);
  });

  test('white paper, Default Configuration Parameter Values: over implicit FTPS (Server Type 4), data connections protected (RFC 4217)', async () => {
    const rec = await bootOver(`ftps://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.ftps}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.requests.filter((r) => r.status === 'error')).toEqual([]);
    expect(rec.image.action).toBe('downloaded');
    expect(rec.effective!.params).toEqual(explainParams);
  });

  test('CLI: polyprov phone boot --json params equal polyprov explain --json params', async () => {
    const r = await runCli(['phone', 'boot', '--server', `http://127.0.0.1:${open.ports.http}/`, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { effective: { params: unknown }; requests: unknown[] };
    expect(rec.requests.length).toBeGreaterThan(10);
    expect(rec.effective.params).toEqual(explainParams);
    // secrets stay masked in the boot record
    expect(r.stdout).not.toContain('sitewide-secret');
    expect(r.stdout).not.toContain('ss\\"w<rd');
  });

  test('SEED-AG, Supported Provisioning Protocols (HTTPS): the server certificate is checked against --ca; without it the phone cannot contact the server', async () => {
    const url = `https://siteuser:Site-Pass-1@127.0.0.1:${accounts.ports.https}/`;
    const ok = await runCli(['phone', 'boot', '--server', url, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--ca', join(dir, 'cert.pem'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { effective: { params: unknown } }).effective.params).toEqual(explainParams);
    expect(ok.stdout).not.toContain('Site-Pass-1');
    const bad = await runCli(['phone', 'boot', '--server', url, '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--json']);
    expect(bad.code).toBe(1);
    const rec = JSON.parse(bad.stdout) as { contacted: boolean; requests: Array<{ error?: string }> };
    expect(rec.contacted).toBe(false);
    expect(rec.requests[0]!.error).toMatch(/self[- ]signed|certificate/i);
  });
});
