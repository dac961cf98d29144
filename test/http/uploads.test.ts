// Uploads over HTTP PUT: exactly what phones upload, where their master file says, atomically.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { curl, req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree, tempDir } from '../support/tree.ts';
import { requirePeer } from '../support/peers.ts';

let srv: TestServer;
let root: string;

beforeAll(async () => {
  root = standardTree();
  srv = await startTestServer(root, { policy: 'open', lockedParams: ['reg.*', 'device.*'], uploadMaxBytesOverride: 4096, logCapBytes: 4096 });
});
afterAll(async () => srv.close());

const override = (v: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="${v}"/></PHONE_CONFIG>\n`;

describe('uploads (issue 4, Uploads)', () => {
  test.skipIf(!requirePeer('curl', 'curl'))('white paper, override files: PUT <MAC>-phone.cfg into OVERRIDES_DIRECTORY is stored and served back', async () => {
    const put = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', override('1'), `${srv.url}/overrides/${MAC1}-phone.cfg`]);
    expect(put.stdout).toBe('201');
    const put2 = await req(`${srv.url}/overrides/${MAC1}-phone.cfg`, { method: 'PUT', body: override('2') });
    expect(put2.status).toBe(204);
    const got = await req(`${srv.url}/overrides/${MAC1}-phone.cfg`);
    expect(got.body.toString()).toBe(override('2'));
    const hist = await srv.store.uploads.history({ mac: MAC1 as Mac, kind: 'override-phone', path: `overrides/${MAC1}-phone.cfg` }, 10);
    expect(hist.map((h) => h.size)).toEqual([override('2').length, override('1').length]);
    expect(hist[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('an upload outside the directory the master file names is refused with the reason', async () => {
    const r = await req(`${srv.url}/${MAC1}-phone.cfg`, { method: 'PUT', body: override('3') });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toContain('OVERRIDES_DIRECTORY');
  });

  test('everything else is read-only: 403 with the reason in the body', async () => {
    const r = await req(`${srv.url}/site.cfg`, { method: 'PUT', body: '<x/>' });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toContain('PP_READ_ONLY');
    const img = await req(`${srv.url}/sip.ld`, { method: 'PUT', body: 'x' });
    expect(img.status).toBe(403);
  });

  test('a phone may write only its own MAC files (User-Agent serial, guide "Tag SN to UA")', async () => {
    const r = await req(`${srv.url}/overrides/${MAC2}-phone.cfg`, {
      method: 'PUT',
      body: override('4'),
      headers: { 'user-agent': `FileTransport PolycomVVX-VVX_410-UA/5.9.5.0614 (SN:${MAC1}) Type/Application` },
    });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toContain('PP_WRITE_OTHER_MAC');
  });

  test.skipIf(!requirePeer('curl', 'curl'))('oversized upload: 413, and the previous version stays', async () => {
    const before = (await req(`${srv.url}/overrides/${MAC1}-phone.cfg`)).body.toString();
    const big = await req(`${srv.url}/overrides/${MAC1}-phone.cfg`, { method: 'PUT', body: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    // Chunked (no Content-Length): refused while streaming.
    const chunked = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', 'Transfer-Encoding: chunked', '-X', 'PUT', '--data-binary', 'y'.repeat(10_000), `${srv.url}/overrides/${MAC1}-phone.cfg`]);
    expect(chunked.stdout).toBe('413');
    expect((await req(`${srv.url}/overrides/${MAC1}-phone.cfg`)).body.toString()).toBe(before);
  });

  test('a truncated body (fewer bytes than Content-Length) is discarded', async () => {
    const before = (await req(`${srv.url}/overrides/${MAC1}-phone.cfg`)).body.toString();
    await new Promise<void>((resolve) => {
      const s = connect(srv.port, '127.0.0.1', () => {
        s.write(`PUT /overrides/${MAC1}-phone.cfg HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<PHONE_CONFIG a="`);
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 100);
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await req(`${srv.url}/overrides/${MAC1}-phone.cfg`)).body.toString()).toBe(before);
  });

  test('concurrent uploads of one file end with one complete version, never a mix', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => override(String(i).repeat(300)));
    const results = await Promise.all(bodies.map((b) => req(`${srv.url}/overrides/${MAC2}-web.cfg`, { method: 'PUT', body: b })));
    for (const r of results) expect([201, 204]).toContain(r.status);
    const got = (await req(`${srv.url}/overrides/${MAC2}-web.cfg`)).body.toString();
    expect(bodies).toContain(got);
  });

  test('logs: boot and app logs append into a rolling log with a size cap', async () => {
    const url = `${srv.url}/logs/${MAC1}-app.log`;
    await req(url, { method: 'PUT', body: 'line one\n' });
    await req(url, { method: 'PUT', body: 'line two\n' });
    const cur = await srv.store.uploads.current({ mac: MAC1 as Mac, kind: 'log-app', path: `logs/${MAC1}-app.log` });
    expect((await cur!.read()).toString()).toBe('line one\nline two\n');
    for (let i = 0; i < 5; i++) await req(url, { method: 'PUT', body: `${i}`.repeat(1000) + '\n' });
    const capped = await srv.store.uploads.current({ mac: MAC1 as Mac, kind: 'log-app', path: `logs/${MAC1}-app.log` });
    expect(capped!.size).toBeLessThanOrEqual(4096);
    expect((await capped!.read()).toString().endsWith('4'.repeat(1000) + '\n')).toBe(true);
  });

  test('override policy: a locked parameter is stored as received but stripped from the served copy, and flagged', async () => {
    const body = '<PHONE_CONFIG><OVERRIDES reg.1.address="evil" up.backlight.idleIntensity="3"/></PHONE_CONFIG>';
    expect((await req(`${srv.url}/overrides/${MAC2}-phone.cfg`, { method: 'PUT', body })).status).toBe(201);
    const served = (await req(`${srv.url}/overrides/${MAC2}-phone.cfg`)).body.toString();
    expect(served).not.toContain('reg.1.address');
    expect(served).toContain('up.backlight.idleIntensity="3"');
    const stored = await srv.store.uploads.current({ mac: MAC2 as Mac, kind: 'override-phone', path: `overrides/${MAC2}-phone.cfg` });
    expect((await stored!.read()).toString()).toBe(body);
    await srv.core.audit.flush(); // the flag travels with the upload's (batched) sighting
    expect((await srv.store.phones.get(MAC2 as Mac))?.overrideLocked).toBe(true);
  });

  test.skipIf(!requirePeer('curl', 'curl'))('uploads are audited and the phone appears in the inventory' /* reads the curl test's upload */, async () => {
    await srv.core.audit.flush();
    const events = await srv.store.audit.query({ mac: MAC1 as Mac, limit: 100 });
    expect(events.some((e) => e.op === 'write' && e.status === 'stored' && e.path === `overrides/${MAC1}-phone.cfg`)).toBe(true);
    const phone = await srv.store.phones.get(MAC1 as Mac);
    expect(phone?.uploadedCount).toBeGreaterThan(0);
  });
});

describe('crash safety', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  function startChild(treeRoot: string, data: string): Promise<{ proc: ChildProcess; port: number }> {
    return new Promise((resolve, reject) => {
      const proc = spawn(join(import.meta.dirname, '../../bin/polyprov'), ['serve', '--root', treeRoot, '--data', data, '--http', '127.0.0.1:0', '--policy', 'open', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 90_000);
      proc.stdout!.on('data', (c) => {
        out += c;
        const m = /http\s+listening on [^:]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ proc, port: Number(m[1]) });
        }
      });
    });
  }

  test('issue 4: the server killed with SIGKILL during an upload restarts with the previous version intact', async () => {
    const treeRoot = standardTree();
    const data = tempDir();
    let s = await startChild(treeRoot, data);
    child = s.proc;
    const url = `http://127.0.0.1:${s.port}/overrides/${MAC1}-phone.cfg`;
    expect((await req(url, { method: 'PUT', body: override('first') })).status).toBe(201);
    // Start a second upload, send half of it, then kill -9 the server mid-body.
    await new Promise<void>((resolve) => {
      const sock = connect(s.port, '127.0.0.1', () => {
        sock.write(`PUT /overrides/${MAC1}-phone.cfg HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
        sock.write('<PHONE_CONFIG x="' + 'z'.repeat(50_000));
        setTimeout(() => {
          s.proc.kill('SIGKILL');
          sock.destroy();
          resolve();
        }, 300);
      });
      sock.on('error', () => {});
    });
    await new Promise((r) => s.proc.once('exit', r));
    s = await startChild(treeRoot, data);
    child = s.proc;
    const got = await req(`http://127.0.0.1:${s.port}/overrides/${MAC1}-phone.cfg`);
    expect(got.body.toString()).toBe(override('first'));
    s.proc.kill('SIGTERM');
    await new Promise((r) => s.proc.once('exit', r));
  }, 240_000);
});
