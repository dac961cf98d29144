// Issue 7: the virtual phone over explicit FTPS (Server Type 4 = FTPS, SEED-AG Server Menu;
// facts §3.1): AUTH TLS on the plain control connection before USER (RFC 4217 §4), PBSZ 0 and
// PROT P (§8–9), data connections that resume the control connection's TLS session (§10.2).
// Peers: polyprov's own FTP server in process (its log says whether a data connection resumed),
// `polyprov serve` as a child for the hand-worked configuration (hand-worked-tree.ts), and vsftpd,
// which by default refuses data connections that do not reuse the control session
// (require_ssl_reuse=YES).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { FtpFileClient } from '../../src/phone/ftp-client.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { PHONE_PASSWORD, PHONE_USER, startFixture, type Fixture } from '../ftp/helpers.ts';
import { runCli, startServe, type ServeChild } from './serve-child.ts';
import { writeCertificate } from '../support/certs.ts';
import { expectTheHandWorkedConfiguration, writeHandWorkedTree, type Effective } from './hand-worked-tree.ts';
import { requirePeer } from '../support/peers.ts';

const MAC = '0004f2000001' as Mac;

let dir: string;
let root: string;
let certFile: string;
let withTls: ServeChild;
let plainOnly: ServeChild;
let tlsFixture: Fixture;
let plainFixture: Fixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-ftpes-'));
  root = join(dir, 'root');
  await writeHandWorkedTree(root);
  certFile = join(dir, 'cert.pem');
  writeCertificate(certFile, join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] }); // made in Node, no openssl (issue 13 item 1)
  const add = await runCli(['accounts', 'add', '--kind', 'site', '--password-stdin', '--data', join(dir, 'data-tls'), 'siteuser'], 'Site-Pass-1\n');
  expect(add.code, add.stderr).toBe(0);
  [withTls, plainOnly, tlsFixture, plainFixture] = await Promise.all([
    // --ftp with a certificate: explicit FTPS (AUTH TLS) on the FTP port; --ftps: implicit.
    startServe(['--root', root, '--policy', 'accounts', '--data', join(dir, 'data-tls'), '--log-level', 'error', '--cert', certFile, '--key', join(dir, 'key.pem')], ['ftp', 'ftps']),
    startServe(['--root', root, '--policy', 'open', '--data', join(dir, 'data-plain'), '--log-level', 'error'], ['ftp']),
    startFixture({ tls: true }),
    startFixture(),
  ]);
}, 120_000); // serve children start in seconds alone, over 20 s under the shared machine's load

afterAll(async () => {
  await withTls?.stop();
  await plainOnly?.stop();
  await tlsFixture?.close();
  await plainFixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Rec {
  server: string;
  ftpsMode?: string;
  contacted: boolean;
  configFrom: string;
  image: { action: string };
  messages: string[];
  requests: Array<{ url: string; status: string; wire: string; error?: string }>;
  effective: Effective;
}

async function boot(args: string[]): Promise<{ code: number; rec: Rec; stderr: string }> {
  const r = await runCli(['phone', 'boot', '--mac', MAC, '--model', 'VVX410', '--tries', '1', '--timeout', '5000', '--json', ...args]);
  return { code: r.code, rec: JSON.parse(r.stdout || '{}') as Rec, stderr: r.stderr };
}

describe('server-address: FTPS mode defaults (SEED-AG Server Menu, Server Type 4; libcurl reads ftps:// as implicit)', () => {
  test('Server Type FTPS with a bare address is explicit on port 21; an ftps:// URL is implicit on 990; --ftps-mode overrides both', () => {
    expect(parseServerAddress('prov.example.com', { serverType: 'ftps' })).toMatchObject({ protocol: 'ftps', port: 21, ftpsMode: 'explicit' });
    expect(parseServerAddress('ftps://prov.example.com/')).toMatchObject({ port: 990, ftpsMode: 'implicit' });
    expect(parseServerAddress('ftps://prov.example.com/', { ftpsMode: 'explicit' })).toMatchObject({ port: 21, ftpsMode: 'explicit' });
    expect(parseServerAddress('prov.example.com:2121', { serverType: 'ftps', ftpsMode: 'implicit' })).toMatchObject({ port: 2121, ftpsMode: 'implicit' });
    expect(parseServerAddress('ftp://prov.example.com/').ftpsMode).toBeUndefined();
  });
});

describe('FTP client, explicit FTPS against polyprov\'s FTP server (RFC 4217)', () => {
  const client = (f: Fixture) =>
    new FtpFileClient(parseServerAddress(`127.0.0.1:${f.port}`, { serverType: 'ftps', user: PHONE_USER, password: PHONE_PASSWORD }), { address: '127.0.0.1', timeoutMs: 3000, rejectUnauthorized: false });

  test('RFC 4217 §4, §8–10.2: AUTH TLS before USER, PROT P data connections resume the control session; reads, a header hang-up, uploads', async () => {
    const c = client(tlsFixture);
    try {
      const master = await c.get('000000000000.cfg');
      expect(master.status).toBe('ok');
      expect(master.body!.toString()).toContain('CONFIG_FILES="sip.cfg"');
      expect((await c.get('nothing-here.cfg')).status).toBe('not-found');
      expect((await c.put(`logs/${MAC}-app.log`, Buffer.from('boot ok\n'))).status).toBe('ok');
      const head = await c.headThenHangUp('sip.cfg', 8);
      expect(head).toMatchObject({ status: 'ok', wire: 'ftp:hangup' });
      expect((await c.get('sip.cfg')).status).toBe('ok'); // logs in again (and negotiates TLS again) after the hang-up
    } finally {
      await c.close();
    }
    // The real core keeps uploads in its store (test/ftp/helpers.ts).
    expect((await tlsFixture.stored(`logs/${MAC}-app.log`))?.toString()).toBe('boot ok\n');
    const logins = tlsFixture.logs.filter((l) => l.msg === 'ftp login');
    expect(logins.length).toBeGreaterThanOrEqual(2);
    expect(logins.every((l) => l.obj.tls === true)).toBe(true); // the password crossed under TLS every time
    const data = tlsFixture.logs.filter((l) => l.msg === 'ftp data connection TLS');
    expect(data.length).toBeGreaterThanOrEqual(3);
    expect(data.every((l) => l.obj.resumed === true)).toBe(true);
  });

  test('a plaintext-only server: AUTH TLS refused (502) is a clear error, and USER/PASS are never sent in clear', async () => {
    const c = client(plainFixture);
    try {
      const r = await c.get('000000000000.cfg');
      expect(r).toMatchObject({ status: 'error', wire: 'ftp:auth-tls-refused' });
      expect(r.error).toMatch(/refused AUTH TLS \(502/);
      expect(r.error).toMatch(/no explicit FTPS/);
    } finally {
      await c.close();
    }
    expect(plainFixture.logs.filter((l) => l.msg === 'ftp login')).toEqual([]);
    expect(plainFixture.service.requests).toEqual([]);
  });
});

describe('issue 7, issue 12 item 7: phone boot over explicit FTPS ends with the hand-worked configuration (as polyprov explain does)', () => {
  test('white paper, Default Configuration Parameter Values: --server-type ftps, certificate checked against --ca (as for https)', async () => {
    const { code, rec, stderr } = await boot(['--server', `127.0.0.1:${withTls.ports.ftp}`, '--server-type', 'ftps', '--user', 'siteuser', '--password', 'Site-Pass-1', '--ca', certFile]);
    expect(code, stderr).toBe(0);
    expect(rec.ftpsMode).toBe('explicit');
    expect(rec.server).toBe(`ftps://127.0.0.1:${withTls.ports.ftp}/`);
    expect(rec.configFrom).toBe('server');
    expect(rec.requests.filter((r) => r.status === 'error' || r.status === 'denied')).toEqual([]);
    expect(rec.image.action).toBe('downloaded');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('white paper, Default Configuration Parameter Values: an ftps:// URL with --ftps-mode explicit', async () => {
    const { code, rec, stderr } = await boot(['--server', `ftps://siteuser:Site-Pass-1@127.0.0.1:${withTls.ports.ftp}/`, '--ftps-mode', 'explicit', '--ca', certFile]);
    expect(code, stderr).toBe(0);
    expect(rec.ftpsMode).toBe('explicit');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('the implicit port still works with --server-type ftps --ftps-mode implicit', async () => {
    const { code, rec, stderr } = await boot(['--server', `127.0.0.1:${withTls.ports.ftps}`, '--server-type', '4', '--ftps-mode', 'implicit', '--user', 'siteuser', '--password', 'Site-Pass-1', '--ca', certFile]);
    expect(code, stderr).toBe(0);
    expect(rec.ftpsMode).toBe('implicit');
    expectTheHandWorkedConfiguration(rec.effective);
  });

  test('SEED-AG, Supported Provisioning Protocols: without --ca the self-signed certificate is refused and the phone cannot contact the server', async () => {
    const { code, rec } = await boot(['--server', `127.0.0.1:${withTls.ports.ftp}`, '--server-type', 'ftps', '--user', 'siteuser', '--password', 'Site-Pass-1']);
    expect(code).toBe(1);
    expect(rec.contacted).toBe(false);
    expect(rec.requests[0]!.error).toMatch(/self[- ]signed|certificate/i);
  });

  test('explicit mode against a plaintext-only FTP server: exit 1, "Could not contact boot server", the reason names AUTH TLS', async () => {
    const { code, rec } = await boot(['--server', `127.0.0.1:${plainOnly.ports.ftp}`, '--server-type', 'ftps', '--ca', certFile]);
    expect(code).toBe(1);
    expect(rec.contacted).toBe(false);
    expect(rec.configFrom).not.toBe('server');
    expect(rec.requests[0]).toMatchObject({ status: 'error', wire: 'ftp:auth-tls-refused' });
    expect(rec.messages.join('\n')).toMatch(/Could not contact boot server using existing configuration.*AUTH TLS/);
  });
});

// vsftpd: explicit FTPS with its default require_ssl_reuse=YES, so a data connection that does not
// resume the control connection's session is refused ("522 SSL connection failed").
describe.skipIf(!requirePeer('vsftpd', 'vsftpd'))('explicit FTPS against vsftpd (real peer, require_ssl_reuse=YES)', () => {
  let vsftpd: ChildProcess | undefined;
  let vport = 0;
  let vdir = '';
  let out = '';

  beforeAll(async () => {
    vdir = await mkdtemp(join(tmpdir(), 'phone-ftpes-vsftpd-'));
    const vroot = join(vdir, 'root');
    await mkdir(vroot, { recursive: true });
    await writeFile(join(vroot, '000000000000.cfg'), '<APPLICATION CONFIG_FILES="sip.cfg"/>');
    await writeFile(join(vroot, 'sip.cfg'), '<polycomConfig a.b="1"/>');
    await chmod(vdir, 0o755);
    await chmod(vroot, 0o555);
    vport = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const conf = join(vdir, 'vsftpd.conf');
    await writeFile(
      conf,
      [
        'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${vport}`, 'background=NO',
        'anonymous_enable=YES', 'no_anon_password=YES', `anon_root=${vroot}`, 'local_enable=NO', 'write_enable=NO',
        'pasv_enable=YES', 'pasv_address=127.0.0.1', 'seccomp_sandbox=NO', 'secure_chroot_dir=/var/run/vsftpd/empty',
        'xferlog_enable=NO', 'vsftpd_log_file=/dev/null',
        'ssl_enable=YES', 'allow_anon_ssl=YES', 'force_anon_logins_ssl=YES', 'force_anon_data_ssl=YES', 'require_ssl_reuse=YES',
        `rsa_cert_file=${certFile}`, `rsa_private_key_file=${join(dir, 'key.pem')}`, '',
      ].join('\n'),
    );
    await mkdir('/var/run/vsftpd/empty', { recursive: true }).catch(() => undefined);
    vsftpd = spawn('vsftpd', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    vsftpd.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    vsftpd.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const end = Date.now() + 5000;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = net.connect(vport, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      });
      if (ok) break;
      if (Date.now() > end || vsftpd.exitCode !== null) throw new Error(`vsftpd did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 20_000);

  afterAll(async () => {
    vsftpd?.kill('SIGKILL');
    if (vdir) await rm(vdir, { recursive: true, force: true });
  });

  test('RFC 4217 §10.2: data connections resume the control session, so vsftpd serves the files', async () => {
    const c = new FtpFileClient(parseServerAddress(`ftps://anonymous:phone@127.0.0.1:${vport}/`, { ftpsMode: 'explicit' }), { address: '127.0.0.1', timeoutMs: 3000, ca: await readFile(certFile) });
    try {
      const a = await c.get('000000000000.cfg');
      expect(a.status, a.error).toBe('ok');
      expect(a.body!.toString()).toContain('CONFIG_FILES');
      const b = await c.get('sip.cfg');
      expect(b.body!.toString()).toBe('<polycomConfig a.b="1"/>');
      expect((await c.get('0004f2000001.cfg')).status).toBe('not-found');
    } finally {
      await c.close();
    }
  });
});
