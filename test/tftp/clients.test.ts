// Real TFTP clients against the adapter and the real core on 127.0.0.1: tftp-hpa (plain RFC 1350,
// netascii by default) and atftp (RFC 2347/2348/2349/7440 options). Uploads are stored by the core.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MASTER, run, startFixture, waitFor, type Fixture } from './helpers.ts';
import { requirePeers } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

async function sha(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

const hpaGet = (f: Fixture, name: string, local: string) =>
  run('tftp', ['127.0.0.1', String(f.port), '-m', 'binary', '-c', 'get', name, local], f.out);
const hpaPut = (f: Fixture, local: string, name: string) =>
  run('tftp', ['127.0.0.1', String(f.port), '-m', 'binary', '-c', 'put', local, name], f.out);
const atftp = (f: Fixture, dir: '-g' | '-p', name: string, local: string, options: string[]) =>
  run('atftp', [...options.flatMap((o) => ['--option', o]), dir, '-r', name, '-l', local, '127.0.0.1', String(f.port)], f.out);
const FAST = ['blksize 1468', 'tsize 0', 'windowsize 16'];

describe.skipIf(!requirePeers('tftp', 'atftp')).each([0, 2])('TFTP with real clients (%i read workers)', (workers) => {
  let f: Fixture;
  const sizes = [0, 511, 512, 513, 70_001];
  beforeAll(async () => {
    f = await startFixture({}, undefined, workers);
    for (const n of sizes) await writeFile(join(f.dir, `f${n}.bin`), seededBytes(n, n + 1));
    await writeFile(join(f.dir, 'big.ld'), seededBytes(50 * 1024 * 1024, 7));
  });
  afterAll(async () => {
    await f?.close();
  });

  for (const n of sizes) {
    test(`RFC 1350: tftp-hpa gets a ${n}-byte file byte-identical`, async () => {
      const r = await hpaGet(f, `f${n}.bin`, `hpa-${n}.bin`);
      expect(r.stderr).toBe('');
      expect(await sha(join(f.out, `hpa-${n}.bin`))).toBe(await sha(join(f.dir, `f${n}.bin`)));
    });

    test(`RFC 2348/2349/7440: atftp gets a ${n}-byte file with blksize 1468, tsize, windowsize 16`, async () => {
      const r = await atftp(f, '-g', `f${n}.bin`, `at-${n}.bin`, FAST);
      expect(r.code).toBe(0);
      expect(await sha(join(f.out, `at-${n}.bin`))).toBe(await sha(join(f.dir, `f${n}.bin`)));
    });
  }

  test('issue 5 / RFC 1350 §2: a 50 MB image, byte-identical with tftp-hpa (512-byte blocks, number wraps past 65535)', async () => {
    const r = await hpaGet(f, 'big.ld', 'big-hpa.ld');
    expect(r.stderr).toBe('');
    expect(await sha(join(f.out, 'big-hpa.ld'))).toBe(await sha(join(f.dir, 'big.ld')));
  }, 120_000);

  test('issue 5 / RFC 7440: a 50 MB image, byte-identical with atftp (blksize 1468, windowsize 16)', async () => {
    const r = await atftp(f, '-g', 'big.ld', 'big-at.ld', FAST);
    expect(r.code).toBe(0);
    expect(await sha(join(f.out, 'big-at.ld'))).toBe(await sha(join(f.dir, 'big.ld')));
  }, 120_000);

  test('issue 5 / RFC 1350 §2: a 50 MB image with atftp at 512-byte blocks, windowsize 4 (wrap under a window)', async () => {
    const r = await atftp(f, '-g', 'big.ld', 'big-at512.ld', ['windowsize 4']);
    expect(r.code).toBe(0);
    expect(await sha(join(f.out, 'big-at512.ld'))).toBe(await sha(join(f.dir, 'big.ld')));
  }, 120_000);

  test('Administrator\'s Guide, phone uploads: tftp-hpa puts <MAC>-boot.log, stored byte-identical', async () => {
    const local = join(f.out, 'boot.log');
    await writeFile(local, seededBytes(3000, 9));
    const r = await hpaPut(f, 'boot.log', '0004f2000001-boot.log');
    expect(r.stderr).toBe('');
    expect((await f.stored('0004f2000001-boot.log'))?.equals(await readFile(local))).toBe(true);
  });

  test('Administrator\'s Guide, phone uploads: atftp puts <MAC>-directory.xml with blksize and windowsize', async () => {
    const local = join(f.out, 'dir.xml');
    await writeFile(local, seededBytes(200_000, 10));
    const r = await atftp(f, '-p', '0004f2000001-directory.xml', 'dir.xml', ['blksize 1468', 'windowsize 16']);
    expect(r.code).toBe(0);
    expect((await f.stored('0004f2000001-directory.xml'))?.equals(await readFile(local))).toBe(true);
  });

  test('issue 5: a write to a name that is not an upload name is refused with ERROR 2 (PP_READ_ONLY) and nothing changes', async () => {
    await writeFile(join(f.out, 'evil.cfg'), 'x');
    const r = await hpaPut(f, 'evil.cfg', '000000000000.cfg');
    expect(r.stderr + r.stdout).toMatch(/Error code 2/);
    expect(await readFile(join(f.dir, '000000000000.cfg'), 'utf8')).toBe(MASTER);
    const r2 = await hpaPut(f, 'evil.cfg', 'evil.cfg');
    expect(r2.stderr + r2.stdout).toMatch(/Error code 2/);
    expect(existsSync(join(f.dir, 'evil.cfg'))).toBe(false);
  });

  test('RFC 1350 §5: a missing file is answered with ERROR 1', async () => {
    const r = await hpaGet(f, 'nope.cfg', 'nope.cfg');
    expect(r.stderr + r.stdout).toMatch(/Error code 1/);
    const a = await atftp(f, '-g', 'nope.cfg', 'nope2.cfg', FAST);
    expect(a.code).not.toBe(0);
  });

  test('RFC 1350 §5: netascii is refused with ERROR 4 telling the client to use octet mode', async () => {
    const r = await run('tftp', ['127.0.0.1', String(f.port), '-m', 'netascii', '-c', 'get', 'f513.bin', 'n.bin'], f.out);
    expect(r.stderr + r.stdout).toMatch(/Error code 4: .*octet/);
  });

  test('issue 5: every finished transfer is reported to the core (done) with its bytes', async () => {
    expect(await waitFor(() => f.server.sessionCount() === 0, 5000)).toBe(true);
    const big = f.service.finished.filter((t) => t.path === 'big.ld');
    expect(big.length).toBe(3);
    for (const t of big) expect(t.outcome).toMatchObject({ bytes: 50 * 1024 * 1024, status: 'tftp:ok', aborted: false });
    expect((await stat(join(f.dir, 'big.ld'))).size).toBe(50 * 1024 * 1024);
    // The worker runs were really on workers: none died and fell back to the main thread.
    expect(f.server.workersAlive()).toBe(workers);
  });
});
