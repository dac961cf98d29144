// Reads over HTTP: what a phone downloads, with the HTTP parts a boot server must get right.
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { curl, req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, standardTree } from '../support/tree.ts';
import { requirePeer } from '../support/peers.ts';

let srv: TestServer;
let root: string;

beforeAll(async () => {
  root = standardTree({ '0004F2ABCDEF.cfg': '<APPLICATION APP_FILE_PATH="" CONFIG_FILES="site.cfg"/>' });
  symlinkSync('/etc/passwd', join(root, 'escape.cfg'));
  symlinkSync(join(root, 'site.cfg'), join(root, 'inside-link.cfg'));
  srv = await startTestServer(root, { policy: 'open' });
});
afterAll(async () => srv.close());

describe('reads', () => {
  test.skipIf(!requirePeer('curl', 'curl'))('white paper, Master Configuration File: GET 000000000000.cfg with curl returns the file', async () => {
    const r = await curl(['-i', `${srv.url}/000000000000.cfg`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1.1 200/);
    expect(r.stdout).toContain('<APPLICATION');
  });

  test('facts §1.1: MAC file names match in either letter case', async () => {
    expect((await req(`${srv.url}/0004f2abcdef.cfg`)).status).toBe(200);
    expect((await req(`${srv.url}/0004F2ABCDEF.cfg`)).status).toBe(200);
    expect((await req(`${srv.url}/${MAC1.toUpperCase()}-line.cfg`)).body.toString()).toContain('reg.1.address="1001"');
  });

  test('guide, master file lookup: an absent <MAC>.cfg is a plain 404 so the phone falls back to 000000000000.cfg', async () => {
    const r = await req(`${srv.url}/0004f2999999.cfg`);
    expect(r.status).toBe(404);
  });

  test('RFC 9110 §13: ETag and If-None-Match give 304; Last-Modified and If-Modified-Since too', async () => {
    const first = await req(`${srv.url}/site.cfg`);
    expect(first.headers.etag).toBeTruthy();
    expect(first.headers['last-modified']).toBeTruthy();
    const again = await req(`${srv.url}/site.cfg`, { headers: { 'if-none-match': first.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const since = await req(`${srv.url}/site.cfg`, { headers: { 'if-modified-since': first.headers['last-modified']! } });
    expect(since.status).toBe(304);
    const other = await req(`${srv.url}/site.cfg`, { headers: { 'if-none-match': '"nope"' } });
    expect(other.status).toBe(200);
  });

  test('a file edited on disk is served new at once, though small files are kept in memory (same size, new bytes)', async () => {
    writeFileSync(join(root, 'edited.cfg'), '<polycomConfig a.b="1"/>');
    expect((await req(`${srv.url}/edited.cfg`)).body.toString()).toContain('a.b="1"');
    expect((await req(`${srv.url}/edited.cfg`)).body.toString()).toContain('a.b="1"'); // now from memory
    writeFileSync(join(root, 'edited.cfg'), '<polycomConfig a.b="2"/>');
    const r = await req(`${srv.url}/edited.cfg`);
    expect(r.body.toString()).toContain('a.b="2"');
    rmSync(join(root, 'edited.cfg'));
    expect((await req(`${srv.url}/edited.cfg`)).status).toBe(404);
  });

  test('a directory swapped for a symlink out of the root is refused once its cached real path expires', async () => {
    mkdirSync(join(root, 'swap'));
    writeFileSync(join(root, 'swap', 'x.cfg'), '<polycomConfig/>');
    expect((await req(`${srv.url}/swap/x.cfg`)).status).toBe(200);
    rmSync(join(root, 'swap'), { recursive: true });
    const outside = join(root, '..', 'outside-swap');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'x.cfg'), '<polycomConfig secret="outside"/>');
    symlinkSync(outside, join(root, 'swap'));
    await new Promise((r) => setTimeout(r, 1100));
    const r = await req(`${srv.url}/swap/x.cfg`);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('outside');
  });

  test.skipIf(!requirePeer('curl', 'curl'))('RFC 9110 §14: Range returns 206 with Content-Range; unsatisfiable is 416', async () => {
    const r = await req(`${srv.url}/sip.ld`, { headers: { range: 'bytes=100-199' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 100-199/${256 * 1024}`);
    expect(r.body.length).toBe(100);
    const tail = await req(`${srv.url}/sip.ld`, { headers: { range: 'bytes=-10' } });
    expect(tail.body.length).toBe(10);
    const bad = await req(`${srv.url}/sip.ld`, { headers: { range: 'bytes=999999999-' } });
    expect(bad.status).toBe(416);
    const c = await curl(['-r', '0-15', '-o', '-', `${srv.url}/sip.ld`]);
    expect(c.stdout.length).toBe(16);
  });

  test('HEAD gives the headers and no body', async () => {
    const r = await req(`${srv.url}/sip.ld`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(256 * 1024));
    expect(r.body.length).toBe(0);
  });

  test('issue 4, Reads: directory listings are never served', async () => {
    expect((await req(`${srv.url}/`)).status).toBe(403);
    expect((await req(`${srv.url}/overrides/`)).status).toBe(403);
  });

  test('a symlink out of the root is not followed; one inside is', async () => {
    expect((await req(`${srv.url}/escape.cfg`)).status).toBe(404);
    expect((await req(`${srv.url}/inside-link.cfg`)).status).toBe(200);
  });

  test('methods other than GET, HEAD and PUT get 405', async () => {
    const r = await req(`${srv.url}/site.cfg`, { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toContain('PUT');
  });

  test('issue 4: a phone that reads the image header and hangs up leaks no file handle (image of many chunks)', async () => {
    // 8 MB: far more than one streaming chunk and than the socket buffers, so the server is
    // mid-stream when the phone hangs up.
    writeFileSync(join(root, 'big.sip.ld'), Buffer.alloc(8 << 20, 7));
    const fds = () => readdirSync('/proc/self/fd').length;
    // Warm up once so lazily opened handles (log sinks, the store) are already counted.
    await req(`${srv.url}/big.sip.ld`, { headers: { range: 'bytes=0-63' } });
    const whole = await req(`${srv.url}/big.sip.ld`);
    expect(whole.body.length).toBe(8 << 20);
    expect(whole.body.every((b) => b === 7)).toBe(true);
    const part = await req(`${srv.url}/big.sip.ld`, { headers: { range: `bytes=${(1 << 20) - 10}-${(3 << 20) + 9}` } });
    expect(part.status).toBe(206);
    expect(part.body.length).toBe((2 << 20) + 20);
    const before = fds();
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(srv.port, '127.0.0.1', () => s.write('GET /big.sip.ld HTTP/1.1\r\nHost: x\r\n\r\n'));
        s.once('data', () => {
          s.destroy();
          resolve();
        });
        s.setTimeout(5000, () => {
          s.destroy();
          resolve();
        });
      });
    }
    // Give the server a moment to see the closes.
    for (let i = 0; i < 50 && fds() > before + 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(fds()).toBeLessThanOrEqual(before + 2);
  });
});
