// The virtual phone's passive FTP client against a real peer, vsftpd, on loopback: login,
// SIZE/RETR, 550 as "not found", a header read that hangs up, STOR and APPE uploads.
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FtpFileClient } from '../../src/phone/ftp-client.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { requirePeer } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

let dir: string;
let port: number;
let vsftpd: ChildProcess | undefined;
const HAVE_VSFTPD = requirePeer('vsftpd', 'vsftpd');
let log = '';

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftp-client-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'logs'), { recursive: true });
  await chmod(dir, 0o755);
  await chmod(root, 0o555); // vsftpd refuses a writable anonymous root
  await chown(join(root, 'logs'), 108, 111).catch(() => undefined);
  await chmod(join(root, 'logs'), 0o777);
  await chmod(root, 0o755);
  await writeFile(join(root, 'sip.cfg'), '<polycomConfig a.b="1"/>');
  await writeFile(join(root, 'sip.ld'), seededBytes(300_000, 9));
  await chmod(root, 0o555);
  port = await freeTcpPort();
  const conf = join(dir, 'vsftpd.conf');
  await writeFile(
    conf,
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=YES',
      'no_anon_password=YES',
      `anon_root=${root}`,
      'local_enable=NO',
      'write_enable=YES',
      'anon_upload_enable=YES',
      'anon_other_write_enable=YES',
      'anon_umask=022',
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      'seccomp_sandbox=NO',
      'secure_chroot_dir=/var/run/vsftpd/empty',
      'xferlog_enable=NO',
      'vsftpd_log_file=/dev/null',
      '',
    ].join('\n'),
  );
  vsftpd = spawn('vsftpd', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  vsftpd.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  vsftpd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const end = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > end || vsftpd.exitCode !== null) throw new Error(`vsftpd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  vsftpd?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

const client = () => new FtpFileClient(parseServerAddress(`ftp://anonymous:phone@127.0.0.1:${port}/`), { address: '127.0.0.1', timeoutMs: 3000 });

describe.skipIf(!HAVE_VSFTPD)('FTP client (RFC 959 passive mode; SEED-AG Server Menu: passive only)', () => {
  test('RETR with SIZE; 550 is "not found"', async () => {
    const c = client();
    try {
      const r = await c.get('sip.cfg');
      expect(r).toMatchObject({ status: 'ok', wire: 'ftp:226', size: 24 });
      expect(r.body!.toString()).toBe('<polycomConfig a.b="1"/>');
      expect((await c.get('0004f2000001.cfg')).status).toBe('not-found');
      const big = await c.get('sip.ld');
      expect(big.body!.equals(seededBytes(300_000, 9))).toBe(true);
    } finally {
      await c.close();
    }
  });

  test('SEED-AG BootROM step 6: a header read hangs up, and the next transfer logs in again', async () => {
    const c = client();
    try {
      const h = await c.headThenHangUp('sip.ld', 64);
      expect(h).toMatchObject({ status: 'ok', wire: 'ftp:hangup', size: 300_000 });
      expect(h.body!.equals(seededBytes(300_000, 9).subarray(0, 64))).toBe(true);
      expect((await c.get('sip.cfg')).status).toBe('ok');
    } finally {
      await c.close();
    }
  });

  test('SEED-AG, boot server setup: the phone uploads logs with STOR, and APPE appends', async () => {
    const c = client();
    try {
      expect((await c.put('logs/0004f2000001-app.log', Buffer.from('first\n'))).status).toBe('ok');
      expect((await c.put('logs/0004f2000001-app.log', Buffer.from('second\n'), { append: true })).status).toBe('ok');
      expect(await readFile(join(dir, 'root', 'logs', '0004f2000001-app.log'), 'utf8')).toBe('first\nsecond\n');
      // the root is read-only: a refused STOR is "denied", not an error to retry
      expect((await c.put('0004f2000001-phone.cfg', Buffer.from('x'))).status).toBe('denied');
    } finally {
      await c.close();
    }
  });
});
