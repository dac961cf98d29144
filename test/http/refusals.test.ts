// Issue 12 item 3: every refusal of a parsed request goes through the core and is audited and
// counted exactly once, hostile paths included (the HTTP face used to answer a target that did
// not percent-decode with its own 400, neither audited nor counted); wire-level garbage that never
// became a request (a malformed HTTP head, an unknown FTP command, a junk UDP datagram) is counted
// in the metrics only.
// Issue 13 item 15: a refused request (a 401 before credentials, a 404) never creates a phone in
// the inventory nor sets its last boot; it is recorded as a refusal.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeAccount } from '../../src/core/digest.ts';
import type { Mac } from '../../src/domain.ts';
import { req } from '../support/http-client.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, standardTree } from '../support/tree.ts';

let open: TestServer;
let accounts: TestServer;

beforeAll(async () => {
  open = await startTestServer(standardTree(), { policy: 'open', tftp: '127.0.0.1:0', tftpWorkers: 0, ftp: '127.0.0.1:0' });
  accounts = await startTestServer(standardTree({ [`${MAC1}.cfg`]: '<?xml version="1.0"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"/>\n' }), { policy: 'accounts' });
});
afterAll(async () => {
  await open?.close();
  await accounts?.close();
});

function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(data));
    let out = '';
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
}

/** The value of one Prometheus sample (0 when absent). */
function metric(srv: TestServer, sample: string): number {
  const line = srv.core.metrics.render().split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

async function auditCount(srv: TestServer, code?: string): Promise<number> {
  await srv.core.audit.flush();
  const events = await srv.store.audit.query({ limit: 10_000 });
  return code === undefined ? events.length : events.filter((e) => e.code === code).length;
}

const HOSTILE = 'polyprov_refusals_total{transport="http",code="PP_PATH_HOSTILE"}';
const GARBAGE_HTTP = 'polyprov_wire_garbage_total{transport="http"}';

describe('refusals go through the core (issue 12 item 3)', () => {
  const targets: Array<[string, string]> = [
    ['a target that does not percent-decode', '/site%zz.cfg'],
    ['a lone percent sign', '/site.cfg%'],
    ['dot-dot', '/../../etc/passwd'],
    ['percent-encoded dot-dot', '/%2e%2e/%2e%2e/etc/passwd'],
    ['double-encoded dot-dot', '/%252e%252e/etc/passwd'],
    ['NUL', '/site.cfg%00.ld'],
  ];
  for (const [what, target] of targets) {
    test(`issue 4, Bad input: ${what} is 400 PP_PATH_HOSTILE, audited and counted once`, async () => {
      const refusals = metric(open, HOSTILE);
      const audited = await auditCount(open, 'PP_PATH_HOSTILE');
      const r = await raw(open.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(r).toMatch(/^HTTP\/1.1 400 /);
      expect(r).toContain('PP_PATH_HOSTILE');
      expect(metric(open, HOSTILE)).toBe(refusals + 1);
      expect(await auditCount(open, 'PP_PATH_HOSTILE')).toBe(audited + 1);
    });
  }

  test('a malformed HTTP head is wire garbage: counted in polyprov_wire_garbage_total only, no audit, no request', async () => {
    const garbage = metric(open, GARBAGE_HTTP);
    const requests = metric(open, 'polyprov_requests_total{transport="http",status="400"}');
    const audited = await auditCount(open);
    const r = await raw(open.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(r).toMatch(/^HTTP\/1.1 400 /);
    expect(metric(open, GARBAGE_HTTP)).toBe(garbage + 1);
    expect(metric(open, 'polyprov_requests_total{transport="http",status="400"}')).toBe(requests);
    expect(await auditCount(open)).toBe(audited);
  });

  test('RFC 959 §4.2: an unknown FTP command is wire garbage (502): counted, not audited', async () => {
    const port = open.listening.find((l) => l.transport === 'ftp')!.port;
    const sample = 'polyprov_wire_garbage_total{transport="ftp"}';
    const garbage = metric(open, sample);
    const audited = await auditCount(open);
    const r = await raw(port, 'XYZZY plugh\r\nQUIT\r\n');
    expect(r).toMatch(/^220[^]*\r\n502 /);
    expect(metric(open, sample)).toBe(garbage + 1);
    expect(await auditCount(open)).toBe(audited);
  });

  test('RFC 1350 §5: a junk datagram on the TFTP port is wire garbage: counted, not audited', async () => {
    const port = open.listening.find((l) => l.transport === 'tftp')!.port;
    const sample = 'polyprov_wire_garbage_total{transport="tftp"}';
    const garbage = metric(open, sample);
    const audited = await auditCount(open);
    const sock = createSocket('udp4');
    const answered = new Promise<Buffer>((resolve) => sock.once('message', resolve));
    sock.send(Buffer.from([0x00, 0x09, 0xde, 0xad]), port, '127.0.0.1');
    const reply = await answered;
    sock.close();
    expect(reply.readUInt16BE(0)).toBe(5); // ERROR
    expect(metric(open, sample)).toBe(garbage + 1);
    expect(await auditCount(open)).toBe(audited);
  });
});

describe('refusals are not boots (issue 13 item 15)', () => {
  // The bootROM (Updater) reads the master file first: that read starts a boot.
  const UA = `FileTransport PolycomSoundPointIP-SPIP_650-UA/4.2.2.0710 Type/Updater`;

  test('a 401 for <MAC>.cfg and <MAC>-phone.cfg and a 404 create no phone and set no last boot; each is audited as a refusal', async () => {
    const mac = MAC1 as Mac;
    expect((await req(`${accounts.url}/${MAC1}.cfg`, { headers: { 'user-agent': UA } })).status).toBe(401);
    expect((await req(`${accounts.url}/overrides/${MAC1}-phone.cfg`, { headers: { 'user-agent': UA } })).status).toBe(401);
    await accounts.core.audit.flush();
    expect(await accounts.store.phones.get(mac)).toBeUndefined();
    const refusals = (await accounts.store.audit.query({ mac })).filter((e) => e.code === 'PP_AUTH_REQUIRED');
    expect(refusals.map((e) => e.path).sort()).toEqual([`${MAC1}.cfg`, `overrides/${MAC1}-phone.cfg`]);

    await accounts.store.accounts.put(makeAccount('site', 'site', 'site-secret', 'polyprov'));
    const basic = { authorization: `Basic ${Buffer.from('site:site-secret').toString('base64')}`, 'user-agent': UA };
    expect((await req(`${accounts.url}/${MAC1}-missing.cfg`, { headers: basic })).status).toBe(404);
    await accounts.core.audit.flush();
    expect(await accounts.store.phones.get(mac)).toBeUndefined();

    // Served: now it is a phone, and its boot starts with the master file.
    expect((await req(`${accounts.url}/${MAC1}.cfg`, { headers: basic })).status).toBe(200);
    await accounts.core.audit.flush();
    const phone = await accounts.store.phones.get(mac);
    expect(phone?.lastBoot).toBeInstanceOf(Date);
  });
});
