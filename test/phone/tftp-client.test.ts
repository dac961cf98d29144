// The virtual phone's TFTP client against a real peer, tftpd-hpa (in.tftpd), on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { TftpFileClient } from '../../src/phone/tftp-client.ts';
import { requirePeer } from '../support/peers.ts';
import { seededBytes } from '../support/prng.ts';

let dir: string;
const servers: ChildProcess[] = [];

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function tftpd(extra: string[]): Promise<number> {
  const port = await freeUdpPort();
  const child = spawn('in.tftpd', ['-L', '-a', `127.0.0.1:${port}`, '-c', '-p', '-u', 'root', '-U', '000', '-s', dir, ...extra], { stdio: 'ignore' });
  servers.push(child);
  await new Promise((r) => setTimeout(r, 300));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tftp-client-'));
  await chmod(dir, 0o777);
  for (const n of [0, 511, 512, 513, 1428, 1429, 5000]) await writeFile(join(dir, `f${n}.bin`), seededBytes(n, n + 1));
});

afterAll(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const client = (port: number, blksize?: number) => new TftpFileClient(parseServerAddress(`tftp://127.0.0.1:${port}/`), { address: '127.0.0.1', timeoutMs: 1000, retries: 3, blksize });

describe.skipIf(!requirePeer('in.tftpd', 'tftpd-hpa'))('TFTP client (RFC 1350, RFC 2347/2348/2349)', () => {
  test('RFC 2348 blksize and RFC 2349 tsize negotiated; sizes around the block boundary arrive intact', async () => {
    const port = await tftpd([]);
    const c = client(port);
    for (const n of [0, 511, 512, 513, 1428, 1429, 5000]) {
      const r = await c.get(`f${n}.bin`);
      expect(r.status, `f${n}.bin`).toBe('ok');
      expect(r.size).toBe(n);
      expect(r.body!.equals(seededBytes(n, n + 1)), `f${n}.bin`).toBe(true);
    }
  });

  test('RFC 1350 without options: a server that refuses blksize and tsize still serves 512-byte blocks', async () => {
    const port = await tftpd(['-r', 'blksize', '-r', 'tsize']);
    const c = client(port);
    for (const n of [0, 512, 513, 5000]) {
      const r = await c.get(`f${n}.bin`);
      expect(r.body!.equals(seededBytes(n, n + 1)), `f${n}.bin`).toBe(true);
    }
  });

  test('RFC 1350 ERROR 1 is "not found"; a header read hangs up after the first block', async () => {
    const port = await tftpd([]);
    const c = client(port, 512);
    expect((await c.get('missing.cfg')).status).toBe('not-found');
    const h = await c.headThenHangUp('f5000.bin', 64);
    expect(h.status).toBe('ok');
    expect(h.wire).toBe('tftp:hangup');
    expect(h.body!.equals(seededBytes(5000, 5001).subarray(0, 64))).toBe(true);
  });

  test('RFC 1350 WRQ: an upload of 0, 512 and 1500 bytes is written whole', async () => {
    const port = await tftpd([]);
    const c = client(port);
    for (const n of [0, 512, 1500]) {
      const body = seededBytes(n, 7);
      const r = await c.put(`up${n}.log`, body);
      expect(r.status, `up${n}.log`).toBe('ok');
      expect((await readFile(join(dir, `up${n}.log`))).equals(body)).toBe(true);
    }
  });

  test('no server: bounded retries end in an error, not a hang', async () => {
    const port = await freeUdpPort();
    const c = new TftpFileClient(parseServerAddress(`tftp://127.0.0.1:${port}/`), { address: '127.0.0.1', timeoutMs: 100, retries: 2 });
    const r = await c.get('x.cfg');
    expect(r.status).toBe('error');
  });
});
