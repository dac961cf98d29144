// Certificates made in Node (issue 13 item 1): what the tests and the boot-storm bench rely on.
import { X509Certificate } from 'node:crypto';
import { createServer, connect } from 'node:tls';
import { describe, expect, test } from 'vitest';
import { makeCertificate } from './certificate.ts';

describe('certificates made in Node (RFC 5280)', () => {
  test('self-signed with CN and subjectAltName: parses, verifies itself, and a TLS client trusting it connects to 127.0.0.1', async () => {
    const c = makeCertificate({ cn: '127.0.0.1', altNames: ['127.0.0.1', 'localhost'] });
    const x = new X509Certificate(c.cert);
    expect(x.subject).toBe('CN=127.0.0.1');
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    const server = createServer({ cert: c.cert, key: c.key }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, ca: c.cert }, () => s.once('data', (d) => resolve(String(d))));
        s.on('error', reject);
      });
      expect(got).toBe('ok');
    } finally {
      server.close();
    }
  });

  test('signed by a CA made here: issued by it, verified by its key, not a CA itself', () => {
    const ca = { ...makeCertificate({ cn: 'test CA' }), cn: 'test CA' };
    const leaf = new X509Certificate(makeCertificate({ cn: '0004f2000001', issuer: ca }).cert);
    const caCert = new X509Certificate(ca.cert);
    expect(leaf.issuer).toBe('CN=test CA');
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(new X509Certificate(makeCertificate({ cn: 'other' }).cert).publicKey)).toBe(false);
  });
});
