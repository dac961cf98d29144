// FTPS with lftp (GnuTLS): issue 5, "Tested with curl and lftp". lftp negotiates AUTH TLS, PBSZ 0,
// PROT P, uses FEAT, EPSV/PASV, LIST, SIZE and MDTM, so it exercises most of the command set.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PHONE, PHONE_PASSWORD, PHONE_USER, run, sha256, startFixture, type Fixture } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

let f: Fixture;
let work: string;

const lftp = (script: string, user = 'PlcmSpIp,PlcmSpIp', tls = true) =>
  run(
    'lftp',
    [
      '-c',
      [
        'set cmd:fail-exit true',
        'set net:max-retries 1',
        'set net:timeout 10',
        `set ftp:ssl-force ${tls}`,
        `set ftp:ssl-protect-data ${tls}`,
        `set ftp:ssl-allow ${tls}`,
        'set ssl:verify-certificate no',
        `open -u ${user} -p ${f.port} 127.0.0.1`,
        script,
      ].join('; '),
    ],
    { timeoutMs: 40_000 },
  );

beforeAll(async () => {
  f = await startFixture({ tls: true });
  work = await mkdtemp(join(tmpdir(), 'polyprov-lftp-'));
  await writeFile(join(f.root, 'sip.ld'), seededBytes(5 * 1024 * 1024, 7));
  await utimes(join(f.root, 'sip.cfg'), new Date('2009-06-10T12:00:00Z'), new Date('2009-06-10T12:00:00Z'));
});
afterAll(async () => {
  await f?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!requirePeer('lftp', 'lftp'))('lftp over explicit FTPS (RFC 4217)', () => {
  test('RFC 4217 PROT P: get of the application image is byte-identical', async () => {
    const r = await lftp(`get sip.ld -o ${work}/sip.ld`);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(await readFile(join(work, 'sip.ld')))).toBe(sha256(seededBytes(5 * 1024 * 1024, 7)));
    expect(f.service.requests.filter((x) => x.op === 'read').every((x) => x.transport === 'ftps')).toBe(true);
  });

  test('Admin Guide, Boot Server Security Policy: put, ls and rm in the log directory', async () => {
    const local = join(work, `${PHONE}-boot.log`);
    await writeFile(local, 'boot log\n');
    const r = await lftp(`cd logs; put ${local}; ls; rm ${PHONE}-boot.log; ls`, `${PHONE_USER},${PHONE_PASSWORD}`);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out.match(new RegExp(`${PHONE}-boot\\.log`, 'g'))?.length).toBe(1); // listed once, then gone
  });

  test('LIST (RFC 959 §4.1.3): lftp cls shows the date the core reported for a file', async () => {
    const r = await lftp('cls -l --time-style=%Y-%m-%d sip.cfg');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/2009-06-10/);
  });

  test('refused writes: put of a configuration file fails with 550', async () => {
    const local = join(work, 'sip.cfg');
    await writeFile(local, '<evil/>');
    const r = await lftp(`put ${local}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('550');
  });

  test('wrong passwords: login refused with 530', async () => {
    const r = await lftp('ls', 'PlcmSpIp,bad');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('530');
  });

  test('plain FTP with lftp (factory default protocol, Admin Guide Server Menu): reget resumes with REST', async () => {
    const part = join(work, 'part.ld');
    await writeFile(part, seededBytes(5 * 1024 * 1024, 7).subarray(0, 1_234_567));
    const r = await lftp(`reget sip.ld -o ${part}`, 'PlcmSpIp,PlcmSpIp', false);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(await readFile(part))).toBe(sha256(seededBytes(5 * 1024 * 1024, 7)));
    const last = f.service.finished.filter((x) => x.path === '/sip.ld').at(-1);
    expect(last?.outcome.bytes).toBe(5 * 1024 * 1024 - 1_234_567);
    expect(f.service.requests.filter((x) => x.path === '/sip.ld').at(-1)?.transport).toBe('ftp');
  });
});
