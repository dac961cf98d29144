// Issue 12 item 3, one entry point: a served file carries its own completion. The HTTP face calls
// `done(outcome)` once when the transfer ends, and the core records it then: exactly one audit
// record per request with the bytes really sent, and the active-transfers gauge back at zero,
// whether the phone read it all, asked only for the head, or hung up after the image header.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { standardTree } from '../support/tree.ts';

let srv: TestServer;
const IMAGE = 8 * 1024 * 1024;

beforeAll(async () => {
  srv = await startTestServer(standardTree({ 'big.ld': Buffer.alloc(IMAGE, 1) }), { policy: 'open' });
});
afterAll(async () => srv?.close());

async function recordsOf(path: string) {
  await srv.core.audit.flush();
  return (await srv.store.audit.query({ limit: 10_000 })).filter((e) => e.path === path);
}

const active = () => Number(/^polyprov_active_transfers (\d+)$/m.exec(srv.core.metrics.render())![1]);

async function until(ok: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return ok();
}

test('white paper, Master Configuration File: a GET and a HEAD of a configuration file are each recorded once, with the bytes sent', async () => {
  const get = await req(`${srv.url}/site.cfg`);
  expect(get.status).toBe(200);
  expect((await req(`${srv.url}/site.cfg`, { method: 'HEAD' })).status).toBe(200);
  const records = await recordsOf('site.cfg');
  expect(records.map((e) => [e.op, e.status, e.bytes]).sort()).toEqual([
    ['read', '200', 0],
    ['read', '200', get.body.length],
  ].sort());
  expect(active()).toBe(0);
});

test('issue 4: a phone that reads the image header and hangs up is recorded once as aborted, and the transfer is no longer active', async () => {
  await new Promise<void>((resolve) => {
    const s = connect(srv.port, '127.0.0.1', () => s.write('GET /big.ld HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = 0;
    s.on('data', (c) => {
      got += c.length;
      if (got > 64 * 1024) s.destroy();
    });
    s.on('close', () => resolve());
  });
  expect(await until(async () => (await recordsOf('big.ld')).length > 0)).toBe(true);
  const records = await recordsOf('big.ld');
  expect(records).toHaveLength(1);
  expect(records[0]!.status).toBe('200-aborted');
  expect(records[0]!.bytes).toBeLessThan(IMAGE);
  expect(await until(() => active() === 0)).toBe(true);
});
