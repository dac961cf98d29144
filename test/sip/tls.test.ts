// check-sync over TLS (RFC 3261 §26.2, sips:): a node TLS server with a throw-away certificate
// plays the phone. The certificate is verified against --ca; an unknown CA is refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CheckSyncSender } from '../../src/sip/notify.ts';
import { getHeader, StreamFramer } from '../../src/sip/message.ts';
import { parseSipUri } from '../../src/sip/targets.ts';
import { writeCertificate } from '../support/certs.ts';

let dir: string;
let cert: Buffer;
let key: Buffer;
let server: tls.Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-sip-tls-'));
  writeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'], days: 1 }); // made in Node, no openssl (issue 13 item 1)
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  server = tls.createServer({ cert, key }, (sock) => {
    const framer = new StreamFramer();
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      for (const m of framer.push(d).messages) {
        if (!m.ok || m.message.kind !== 'request') continue;
        const req = m.message;
        seen.push(getHeader(req, 'Via')!);
        const h = (n: string) => getHeader(req, n)!;
        sock.write(`SIP/2.0 200 OK\r\nVia: ${h('Via')}\r\nFrom: ${h('From')}\r\nTo: ${h('To')};tag=t\r\nCall-ID: ${h('Call-ID')}\r\nCSeq: ${h('CSeq')}\r\nContent-Length: 0\r\n\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const target = () => ({ uri: parseSipUri(`sips:1001@127.0.0.1:${port}`)!, host: '127.0.0.1', port, transport: 'tls' as const });

describe('check-sync over TLS', () => {
  test('RFC 3261 §18 TLS: 200 OK with the phone certificate verified against the given CA; Via says TLS', async () => {
    const s = new CheckSyncSender({ timers: { t1Ms: 50, t2Ms: 4000 }, tlsCa: cert });
    try {
      const r = await s.send(target());
      expect(r.status).toBe(200);
      expect(r.transmissions).toBe(1);
      expect(seen.at(-1)).toMatch(/^SIP\/2\.0\/TLS /);
    } finally {
      await s.close();
    }
  });

  test('an untrusted phone certificate is an error, not a silent send', async () => {
    const s = new CheckSyncSender({ timers: { t1Ms: 50, t2Ms: 4000 } });
    try {
      const r = await s.send(target());
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/certificate/i);
    } finally {
      await s.close();
    }
  });
});
