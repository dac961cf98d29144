// Certificates made in Node (issue 13 item 1): what the tests and the boot-storm bench rely on.
import { X509Certificate } from 'node:crypto';
import { createServer, connect } from 'node:tls';
import { describe, expect, test } from 'vitest';
import { makeCertificate, serialNumber } from './certificate.ts';

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

  test('X.690 §8.3.2: the serial is a positive INTEGER in minimal form for every first byte (OpenSSL refused a leading 0x00 before a byte under 0x80, "illegal padding", about once in 256 certificates)', () => {
    for (let first = 0; first < 256; first++) {
      for (const second of [0x00, 0x7f, 0x80, 0xff]) {
        const s = serialNumber(Buffer.from([first, second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
        expect(s).toHaveLength(16);
        expect(s[0]! & 0x80, 'positive').toBe(0);
        expect(s[0], 'no leading zero byte').not.toBe(0);
        expect(s.subarray(1)).toEqual(Buffer.from([second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
      }
    }
  });
});
