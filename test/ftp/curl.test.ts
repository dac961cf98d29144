// FTP and FTPS with curl as the client (issue 5: "Tested with curl and lftp: downloads, uploads,
// appends, refused writes, wrong passwords, TLS").
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PHONE, PHONE_PASSWORD, PHONE_USER, run, sha256, startFixture, type Fixture } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

const HAVE_CURL = requirePeer('curl', 'curl');
const FACTORY = 'PlcmSpIp:PlcmSpIp';
const OWN = `${PHONE_USER}:${PHONE_PASSWORD}`;
let f: Fixture;
let big: Buffer;
const url = (p: string, cred = FACTORY) => `ftp://${cred}@127.0.0.1:${f.port}/${p}`;
const curl = (args: string[], input?: Buffer | string) => run('curl', ['-sS', '--max-time', '30', ...args], { input, timeoutMs: 40_000 });

beforeAll(async () => {
  f = await startFixture({ tls: true });
  big = seededBytes(50 * 1024 * 1024);
  await writeFile(join(f.root, 'sip.ld'), big);
});
afterAll(async () => {
  await f?.close();
});

describe.skipIf(!HAVE_CURL)('curl over plain FTP', () => {
  test('Admin Guide, Deploying Phones From the Boot Server: the factory account PlcmSpIp/PlcmSpIp downloads the master file', async () => {
    const r = await curl([url('000000000000.cfg')]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(await readFile(join(f.root, '000000000000.cfg'), 'utf8'));
    const fin = f.service.finished.find((x) => x.path === '/000000000000.cfg');
    expect(fin?.outcome).toMatchObject({ status: 'ftp:226', aborted: false, bytes: r.stdout.length });
  });

  test('issue 5, Speed: a 50 MB application image arrives byte-identical', async () => {
    const out = join(f.root, '..', `dl-${process.pid}.bin`);
    const r = await curl(['-o', out, url('sip.ld')]);
    expect(r.code, r.stderr).toBe(0);
    const got = await readFile(out);
    await rm(out, { force: true });
    expect(got.length).toBe(big.length);
    expect(sha256(got)).toBe(sha256(big));
  });

  test('RFC 3659 §5 REST STREAM: a resumed download starts at the offset', async () => {
    const r = await curl(['-r', '1000000-', url('sip.ld')]);
    expect(r.code).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(big.subarray(1_000_000)));
  });

  test('issue 5, wrong passwords: curl gets 530 (exit 67) and nothing is served', async () => {
    const r = await curl([url('sip.cfg', 'PlcmSpIp:wrong')]);
    expect(r.code).toBe(67);
    expect(r.stderr).toContain('530');
    expect(r.stdout.length).toBe(0);
  });

  test('a per-phone account logs in and reads', async () => {
    const r = await curl([url('sip.cfg', `${PHONE_USER}:${PHONE_PASSWORD}`)]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('voIpProt');
  });

  test('missing file: 550 (curl exit 78)', async () => {
    const r = await curl([url('nope.cfg')]);
    expect(r.code).toBe(78);
  });

  test('Admin Guide, Boot Server Security Policy: the phone uploads its log into the log directory, then appends', async () => {
    const name = `logs/${PHONE}-app.log`;
    const up = await curl(['-T', '-', url(name, OWN)], 'first line\n');
    expect(up.code, up.stderr).toBe(0);
    const app = await curl(['--append', '-T', '-', url(name, OWN)], 'second line\n');
    expect(app.code, app.stderr).toBe(0);
    expect((await f.stored(name))?.toString()).toBe('first line\nsecond line\n');
    expect(f.service.requests.filter((r) => r.path === `/${name}`).map((r) => r.op)).toEqual(['write', 'append']);
  });

  test('a 20 MB upload arrives byte-identical (backpressure from the core to the data connection)', async () => {
    const body = seededBytes(20 * 1024 * 1024, 99);
    const src = join(f.root, '..', `up-${process.pid}.bin`);
    await writeFile(src, body);
    const r = await curl(['-T', src, url(`logs/${PHONE}-boot.log`, OWN)]);
    await rm(src, { force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(sha256((await f.stored(`logs/${PHONE}-boot.log`))!)).toBe(sha256(body));
    expect((await f.audited(`logs/${PHONE}-boot.log`))[0]).toMatchObject({ transport: 'ftp', op: 'write', status: 'stored', bytes: body.length, user: PHONE_USER });
  });

  test('Admin Guide, Boot Server Security Policy: configuration files are read-only for phones (550, file unchanged)', async () => {
    const before = await readFile(join(f.root, 'sip.cfg'), 'utf8');
    const r = await curl(['-T', '-', url('sip.cfg')], '<evil/>');
    expect(r.code).toBe(25);
    expect(r.stderr).toContain('550');
    expect(await readFile(join(f.root, 'sip.cfg'), 'utf8')).toBe(before);
  });

  test('a refused upload is answered before any data is accepted (the core never read the body)', async () => {
    const n = f.service.requests.length;
    const r = await curl(['-T', '-', url('sip.ld')], seededBytes(2 * 1024 * 1024));
    expect(r.code).toBe(25);
    const req = f.service.requests.slice(n).find((x) => x.op === 'write');
    expect(req?.path).toBe('/sip.ld');
    expect((await f.audited('sip.ld')).find((e) => e.op === 'write')).toMatchObject({ code: 'PP_READ_ONLY', bytes: 0 });
  });

  test('Admin Guide, Boot Server Security Policy: DELE of a phone upload works, of a config file is 550', async () => {
    const up = await curl(['-T', '-', url(`${PHONE}-calls.xml`, OWN)], '<x/>');
    expect(up.code).toBe(0); // CALL_LISTS_DIRECTORY is not set: the root (white paper, Master Configuration File)
    expect(await f.stored(`${PHONE}-calls.xml`)).toBeDefined();
    const ok = await curl(['-Q', `DELE ${PHONE}-calls.xml`, url('', OWN)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await f.stored(`${PHONE}-calls.xml`)).toBeUndefined();
    const no = await curl(['-Q', 'DELE sip.cfg', url('', OWN)]);
    expect(no.code).not.toBe(0);
    expect(no.stderr).toContain('550');
    await expect(readFile(join(f.root, 'sip.cfg'))).resolves.toBeDefined();
  });

  test('Admin Guide, Boot Server Security Policy: the account can list the directories the master file names (its stored uploads included)', async () => {
    const r = await curl([url('logs/', OWN)]);
    expect(r.code).toBe(0);
    // curl reads listings in TYPE A and turns CRLF into LF.
    expect(r.stdout.toString()).toMatch(new RegExp(`^-r.* ${PHONE}-app\\.log\\r?$`, 'm'));
    // The phone has its own account: the factory account does not see its files.
    const staged = await curl([url('logs/')]);
    expect(staged.code).toBe(0);
    expect(staged.stdout.toString()).not.toContain(`${PHONE}-app.log`);
    const n = await curl(['-l', url('')]);
    expect(n.stdout.toString().split(/\r?\n/)).toEqual(expect.arrayContaining(['000000000000.cfg', 'sip.cfg', 'sip.ld']));
  });
});

describe.skipIf(!HAVE_CURL)('curl over explicit FTPS (RFC 4217 AUTH TLS, PROT P)', () => {
  test('RFC 4217: download and upload with the control and data channels encrypted', async () => {
    const r = await curl(['--ssl-reqd', '-k', url('sip.cfg')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('voIpProt');
    const req = f.service.requests.filter((x) => x.path === '/sip.cfg' && x.op === 'read').at(-1);
    expect(req?.transport).toBe('ftps');
    const up = await curl(['--ssl-reqd', '-k', '-T', '-', url(`overrides/${PHONE}-phone.cfg`, OWN)], '<PHONE_CONFIG/>');
    expect(up.code, up.stderr).toBe(0);
    expect((await f.stored(`overrides/${PHONE}-phone.cfg`))?.toString()).toBe('<PHONE_CONFIG/>');
  });

  test('RFC 4217 §10.2: the data connection may resume the control TLS session (TLS 1.2 session IDs too)', async () => {
    f.logs.length = 0;
    const r = await curl(['--ssl-reqd', '-k', '--tls-max', '1.2', url('sip.cfg')]);
    expect(r.code, r.stderr).toBe(0);
    const tls = f.logs.find((l) => l.msg === 'ftp data connection TLS');
    expect(tls?.obj).toMatchObject({ resumed: true, protocol: 'TLSv1.2' });
  });

  test('issue 5, Speed: the 50 MB image over FTPS arrives byte-identical', async () => {
    const out = join(f.root, '..', `dls-${process.pid}.bin`);
    const r = await curl(['--ssl-reqd', '-k', '-o', out, url('sip.ld')]);
    expect(r.code, r.stderr).toBe(0);
    const got = await readFile(out);
    await rm(out, { force: true });
    expect(sha256(got)).toBe(sha256(big));
  });

  test('RFC 4217: wrong password over TLS is 530', async () => {
    const r = await curl(['--ssl-reqd', '-k', url('sip.cfg', 'PlcmSpIp:nope')]);
    expect(r.code).toBe(67);
  });
});
