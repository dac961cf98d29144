// `phone run` over SIP TLS (RFC 3261 §18, §26.2: sips:, port 5061, the phone's device
// certificate): check-sync NOTIFY answered 200 and re-provisioned (white paper, Reconfiguring the
// Phone Remotely; facts §4.1), request validation by digest in realm PolycomSPIP as over UDP/TCP.
// Senders: polyprov notify --transport tls / sips:, and openssl s_client as an independent TLS
// peer (the Debian sipp here is built without OpenSSL: "To use a TLS transport you must compile
// SIPp with OpenSSL", so it cannot play this part).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import type { VirtualPhone } from '../../src/phone/run.ts';
import { startRecordingServer, type RecordingServer } from './recording-server.ts';
import { startRunningPhone, until } from './running-phone.ts';
import { BIN, runCli } from './serve-child.ts';
import { writeCertificate } from '../support/certs.ts';
import { requirePeer } from '../support/peers.ts';

const MAC = '0004f2000001' as Mac;
const VALIDATE =
  'voIpProt.SIP.requestValidation.1.request="NOTIFY" voIpProt.SIP.requestValidation.1.method="digest" voIpProt.SIP.requestValidation.1.request.1.event="check-sync"';

function tree(extraSite = ''): Record<string, string | Buffer> {
  return {
    '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="phone.cfg, site.cfg"/>',
    'phone.cfg': '<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="linepass"/>',
    'site.cfg': `<polycomConfig reg.1.label="Old" ${extraSite}/>`,
    'sip.ld': makeImage('4.0.15.1009', 512),
  };
}

let dir: string;
let certFile: string;
let keyFile: string;
let cert: Buffer;
let key: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-sip-tls-'));
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  writeCertificate(certFile, keyFile, { cn: '127.0.0.1', altNames: ['127.0.0.1'], days: 1 }); // made in Node, no openssl (issue 13 item 1)
  cert = await readFile(certFile);
  key = await readFile(keyFile);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function setup(files: Record<string, string | Buffer>): Promise<{ s: RecordingServer; phone: VirtualPhone }> {
  return startRunningPhone(MAC, files, closers, { sipTls: { port: 0, cert, key } });
}

async function notify(target: string, extra: string[], password?: string): Promise<{ code: number; line: { status: number | string; challenges?: number; error?: string }; out: string }> {
  const data = await mkdtemp(join(tmpdir(), 'notify-data-'));
  closers.push(() => rm(data, { recursive: true, force: true }));
  const args = ['notify', target, '--confirm-timeout', '0', '--json', '--data', data, '--timeout', '5000', ...extra, ...(password !== undefined ? ['--user', '1001', '--password-stdin'] : [])];
  const r = await runCli(args, password !== undefined ? `${password}\n` : undefined);
  return { code: r.code, line: JSON.parse(r.stdout.trim().split('\n')[0] || '{}') as never, out: r.stderr + r.stdout };
}

/** Sends one NOTIFY Event: check-sync with openssl s_client (certificate verified) and returns what came back. */
async function sslClientNotify(port: number, callId: string): Promise<string> {
  const msg = [
    `NOTIFY sip:1001@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK${callId}`,
    'From: <sip:akihabara>;tag=1530231855',
    `To: <sip:1001@127.0.0.1:${port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 NOTIFY',
    'Contact: <sip:akihabara>',
    'Event: check-sync',
    'Max-Forwards: 10',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', certFile, '-verify_return_error', '-verify_ip', '127.0.0.1', '-quiet'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', () => undefined);
  child.stdin.on('error', () => undefined);
  child.stdin.write(msg);
  try {
    // the whole response: status line through the blank line that ends the headers
    await until(() => (/^SIP\/2\.0 \d{3}[\s\S]*\r\n\r\n/m.test(out) ? true : undefined), 8000);
  } finally {
    child.kill('SIGKILL');
  }
  return out;
}

const HAVE_OPENSSL = requirePeer('openssl', 'openssl'); // s_client is the independent TLS sender

describe('phone run: check-sync over SIP TLS', () => {
  test('RFC 3261 §26.2 / white paper, Reconfiguring the Phone Remotely: polyprov notify --transport tls gets 200, the phone re-reads its configuration', async () => {
    const { s, phone } = await setup(tree());
    expect(phone.sipTlsPort).toBeGreaterThan(0);
    expect(phone.sipTlsPort).not.toBe(phone.sipPort);
    s.files.set('site.cfg', Buffer.from('<polycomConfig reg.1.label="New label"/>'));
    const r = await notify(`sip:1001@127.0.0.1:${phone.sipTlsPort}`, ['--transport', 'tls', '--ca', certFile]);
    expect(r.code, r.out).toBe(0);
    expect(r.line.status).toBe(200);
    const rec = await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(rec.effective?.params['reg.1.label']?.value).toBe('New label');
  });

  test.skipIf(!HAVE_OPENSSL)('facts §4.1, requestValidation digest over TLS: 401 in realm PolycomSPIP answered with the line credentials; a wrong password stays 401 and changes nothing', async () => {
    const { phone } = await setup(tree(VALIDATE));
    const target = `sips:1001@127.0.0.1:${phone.sipTlsPort}`;
    // The challenge itself, read raw off the TLS connection: 401 with realm PolycomSPIP.
    const challenge = await sslClientNotify(phone.sipTlsPort!, 'ossl-challenge-1');
    expect(challenge).toMatch(/^SIP\/2\.0 401 Unauthorized\r$/m);
    expect(challenge).toMatch(/^WWW-Authenticate: Digest realm="PolycomSPIP", nonce="[0-9a-f]+"/m);
    const wrong = await notify(target, ['--ca', certFile], 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.line.status).toBe(401);
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(0);
    const good = await notify(target, ['--ca', certFile], 'linepass');
    expect(good.code, good.out).toBe(0);
    expect(good.line).toMatchObject({ status: 200, challenges: 1 });
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(1);
  });

  test('the sender checks the phone certificate: without --ca it refuses to send, and nothing is re-provisioned', async () => {
    const { phone } = await setup(tree());
    const r = await notify(`sips:1001@127.0.0.1:${phone.sipTlsPort}`, []);
    expect(r.code).toBe(1);
    expect(String(r.line.error)).toMatch(/certificate/i);
    await new Promise((res) => setTimeout(res, 200));
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(0);
  });

  test.skipIf(!HAVE_OPENSSL)('openssl s_client as the sender: a raw NOTIFY Event: check-sync over TLS gets 200 and a re-provisioning', async () => {
    const { phone } = await setup(tree());
    const out = await sslClientNotify(phone.sipTlsPort!, 'ossl-check-sync-1');
    expect(out).toMatch(/^SIP\/2\.0 200 OK\r$/m);
    expect(out).toMatch(/Call-ID: ossl-check-sync-1/);
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
  });

  test('CLI: polyprov phone run --sip-cert --sip-key --sip-tls-port listens on TLS and re-provisions on a TLS check-sync', async () => {
    const s = await startRecordingServer(tree());
    closers.push(() => s.close());
    const child = spawn(process.execPath, [BIN, 'phone', 'run', '--server', s.url, '--mac', MAC, '--tries', '1', '--json', '--sip', '127.0.0.1:0', '--sip-cert', certFile, '--sip-key', keyFile, '--sip-tls-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    closers.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const port = await until(() => {
      const m = /, tls 127\.0\.0\.1:(\d+)/.exec(err);
      return m ? Number(m[1]) : undefined;
    }, 20_000);
    const r = await notify(`sips:1001@127.0.0.1:${port}`, ['--ca', certFile]);
    expect(r.code, r.out).toBe(0);
    expect(r.line.status).toBe(200);
    await until(() => (out.trim().split('\n').some((l) => l.includes('"kind":"check-sync"')) ? true : undefined), 10_000);
    expect(err).toMatch(/check-sync from tls 127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('usage: --sip-tls-port without the phone certificate is refused (exit 2)', async () => {
    const r = await runCli(['phone', 'run', '--server', 'http://127.0.0.1:9/', '--mac', MAC, '--sip-tls-port', '5061']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sip-cert/);
  });
});
