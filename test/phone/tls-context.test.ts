// The shared TLS client context (src/phone/tls-context.ts) changes nothing a server sees: every
// HTTPS file is still a full handshake (the boot storm's "a full handshake per file"), and the CA
// given is still the one the certificate is checked against.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpFileClient } from '../../src/phone/http-client.ts';
import { parseServerAddress } from '../../src/phone/server-address.ts';
import { clientSecureContext } from '../../src/phone/tls-context.ts';
import { writeCertificate } from '../support/certs.ts';

let dir: string;
let cert: Buffer;
let key: Buffer;
let otherCa: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tls-context-'));
  const mk = (name: string) => writeCertificate(join(dir, `${name}.pem`), join(dir, `${name}.key`), { cn: '127.0.0.1', altNames: ['127.0.0.1'] }); // in Node, no openssl
  mk('server');
  mk('other');
  cert = await readFile(join(dir, 'server.pem'));
  key = await readFile(join(dir, 'server.key'));
  otherCa = await readFile(join(dir, 'other.pem'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shared TLS client context', () => {
  test('one context per CA bundle', () => {
    expect(clientSecureContext(cert)).toBe(clientSecureContext(cert));
    expect(clientSecureContext(cert)).not.toBe(clientSecureContext(otherCa));
    expect(clientSecureContext()).toBe(clientSecureContext());
  });

  test('every file a full handshake (no session resumed), the given CA checked', async () => {
    const reused: boolean[] = [];
    const server = https.createServer({ cert, key }, (req, res) => {
      reused.push((req.socket as TLSSocket).isSessionReused());
      res.end('<polycomConfig/>\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const address = parseServerAddress(`https://127.0.0.1:${port}/`);
      // As the boot storm does: no kept connections, no cached sessions.
      const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 0 });
      const c = new HttpFileClient(address, { address: '127.0.0.1', ca: cert, agent, timeoutMs: 5000 });
      for (let i = 0; i < 4; i++) expect(await c.get('a.cfg')).toMatchObject({ status: 'ok', wire: '200' });
      expect(reused).toEqual([false, false, false, false]);
      // A CA that did not sign the server's certificate is still refused.
      const wrong = new HttpFileClient(address, { address: '127.0.0.1', ca: otherCa, agent, timeoutMs: 5000 });
      const r = await wrong.get('a.cfg');
      expect(r.status).toBe('error');
      expect(r.wire).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
      agent.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 30_000);
});
