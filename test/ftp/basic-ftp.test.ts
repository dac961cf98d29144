// The Node client basic-ftp against polyprov: EPSV, SIZE/MDTM, CWD/PWD, LIST parsing, uploads
// and appends, explicit and implicit FTPS.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFile, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { PHONE, PHONE_PASSWORD, PHONE_USER, startFixture, type Fixture } from './helpers.ts';

let f: Fixture;
let implicit: Fixture;

async function connect(fx: Fixture, secure: boolean | 'implicit' = false, user = 'PlcmSpIp', password = 'PlcmSpIp'): Promise<Client> {
  const c = new Client(10_000);
  await c.access({ host: '127.0.0.1', port: fx.port, user, password, secure, secureOptions: { rejectUnauthorized: false } });
  return c;
}

async function download(c: Client, path: string, start?: number): Promise<Buffer> {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (b: Buffer) => parts.push(b));
  await c.downloadTo(sink, path, start);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  f = await startFixture({ tls: true });
  implicit = await startFixture({ implicitTls: true });
  await utimes(join(f.root, 'sip.cfg'), new Date('2009-06-10T12:34:56Z'), new Date('2009-06-10T12:34:56Z'));
});
afterAll(async () => {
  for (const fx of [f, implicit]) {
    await fx?.close();
  }
});

describe('basic-ftp', () => {
  test('RFC 3659 §4 SIZE and §3 MDTM answer from the core without a transfer', async () => {
    const c = await connect(f);
    try {
      expect(await c.size('sip.cfg')).toBe((await readFile(join(f.root, 'sip.cfg'))).length);
      expect((await c.lastMod('sip.cfg')).toISOString()).toBe('2009-06-10T12:34:56.000Z');
      await expect(c.size('missing.cfg')).rejects.toThrow(/550/);
    } finally {
      c.close();
    }
    expect(f.service.requests.filter((r) => r.path === '/sip.cfg').map((r) => r.op)).toEqual(['stat', 'stat']);
  });

  test('RFC 959 CWD/PWD/CDUP stay inside the phone view; `..` above / is clamped', async () => {
    const c = await connect(f);
    try {
      expect(await c.pwd()).toBe('/');
      await c.cd('logs');
      expect(await c.pwd()).toBe('/logs');
      await c.cd('../../..');
      expect(await c.pwd()).toBe('/');
      await expect(c.cd('no-such-dir')).rejects.toThrow(/550/);
      await expect(c.cd('sip.cfg')).rejects.toThrow(/550/);
      expect(await c.pwd()).toBe('/');
    } finally {
      c.close();
    }
  });

  test('LIST parses into names, sizes and dates', async () => {
    const c = await connect(f, true);
    try {
      const list = await c.list();
      const sip = list.find((e) => e.name === 'sip.cfg');
      expect(sip?.size).toBe((await readFile(join(f.root, 'sip.cfg'))).length);
      expect(sip?.isFile).toBe(true);
      expect(list.map((e) => e.name)).toContain('000000000000.cfg');
    } finally {
      c.close();
    }
  });

  test('explicit FTPS: upload, append, download, with a per-phone account', async () => {
    const c = await connect(f, true, PHONE_USER, PHONE_PASSWORD);
    const name = `logs/${PHONE}-app.log`;
    try {
      await c.uploadFrom(Readable.from([Buffer.from('one\n')]), name);
      await c.appendFrom(Readable.from([Buffer.from('two\n')]), name);
      expect((await download(c, name)).toString()).toBe('one\ntwo\n');
      expect((await download(c, name, 4)).toString()).toBe('two\n');
    } finally {
      c.close();
    }
    expect((await f.stored(name))?.toString()).toBe('one\ntwo\n');
  });

  test('refused writes reject with 550 and leave the session usable', async () => {
    const c = await connect(f);
    try {
      await expect(c.uploadFrom(Readable.from([Buffer.from('x')]), 'sip.cfg')).rejects.toThrow(/550/);
      await expect(c.remove('sip.cfg')).rejects.toThrow(/550/);
      expect((await download(c, 'sip.cfg')).toString()).toContain('voIpProt');
    } finally {
      c.close();
    }
  });

  test('wrong passwords are 530', async () => {
    await expect(connect(f, false, 'PlcmSpIp', 'guess')).rejects.toThrow(/530/);
    await expect(connect(f, false, PHONE_USER, 'PlcmSpIp')).rejects.toThrow(/530/);
  });

  test('implicit FTPS: TLS from the first byte, PROT P data', async () => {
    const c = await connect(implicit, 'implicit');
    try {
      expect((await download(c, 'sip.cfg')).toString()).toContain('voIpProt');
    } finally {
      c.close();
    }
    expect(implicit.service.requests.at(-1)?.transport).toBe('ftps');
  });
});
