// Bad input: hostile paths, malformed requests, slow clients. Each is refused clearly and
// the server keeps serving everyone else; nothing outside the root is read or written.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { normaliseRequestPath } from '../../src/core/paths.ts';
import { curl, req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree } from '../support/tree.ts';
import { requirePeer } from '../support/peers.ts';

let srv: TestServer;
let root: string;

beforeAll(async () => {
  root = standardTree();
  srv = await startTestServer(root, { policy: 'open', httpHeaderTimeoutMs: 1000 });
});
afterAll(async () => srv.close());

function raw(data: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(srv.port, '127.0.0.1', () => s.write(data));
    let out = '';
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, waitMs);
  });
}

describe('hostile paths (issue 4, Bad input)', () => {
  const hostile: Array<[string, string]> = [
    ['dot-dot', '/../../etc/passwd'],
    ['percent-encoded dot-dot', '/%2e%2e/%2e%2e/etc/passwd'],
    ['double-encoded dot-dot', '/%252e%252e/etc/passwd'],
    ['backslash', '/..%5c..%5cetc%5cpasswd'],
    ['NUL', '/site.cfg%00.ld'],
    ['absolute Windows path', '/C:/Windows/win.ini'],
    ['over-long', '/' + 'a'.repeat(2000)],
  ];
  for (const [what, path] of hostile) {
    test(`${what} is refused with a 4xx and reads nothing outside the root`, async () => {
      const r = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(r).toMatch(/^HTTP\/1.1 4\d\d/);
      expect(r).not.toContain('root:');
    });
  }

  test.skipIf(!requirePeer('curl', 'curl'))('a PUT with a hostile path writes nothing outside the root', async () => {
    const target = join(root, '..', 'polyprov-escape-0004f2000001-phone.cfg');
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', '-T', join(root, 'site.cfg'), `${srv.url}/overrides/../../polyprov-escape-0004f2000001-phone.cfg`]);
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(400);
    expect(existsSync(target)).toBe(false);
  });

  test('normaliseRequestPath accepts plain names and refuses the rest', () => {
    expect(normaliseRequestPath('/logs//0004f2000001-app.log')).toBe('logs/0004f2000001-app.log');
    for (const p of ['/a/../b', 'a\\b', 'x\u0000', '/%2e%2e/x', 'C:/x']) expect(() => normaliseRequestPath(p)).toThrow(/path refused/);
  });
});

describe('malformed and slow clients', () => {
  test('garbage instead of a request line gets 400 and the server keeps serving', async () => {
    const r = await raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]));
    expect(r).toMatch(/^HTTP\/1.1 400/);
    expect((await req(`${srv.url}/site.cfg`)).status).toBe(200);
  });

  test('oversized headers get 431', async () => {
    const r = await raw(`GET /site.cfg HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    expect(r).toMatch(/^HTTP\/1.1 431/);
  });

  test('slow-loris: a client that never finishes its headers is cut after the header timeout', async () => {
    const started = Date.now();
    const r = await raw('GET /site.cfg HTTP/1.1\r\nHost: x\r\n', 8000);
    expect(Date.now() - started).toBeLessThan(7900); // closed by the server, not by our give-up timer
    expect(r === '' || /^HTTP\/1.1 408/.test(r)).toBe(true);
    expect((await req(`${srv.url}/site.cfg`)).status).toBe(200);
  });
});
