// Owns throw-away certificates made in Node, without openssl (issue 13 item 1: "certificates can be
// made in Node"), for the tests and the boot-storm bench. Node parses X.509 but cannot issue it, so
// this writes the DER of RFC 5280 section 4.1 itself: an RSA-2048 key, a v3 certificate signed with
// sha256WithRSAEncryption, CN and subjectAltName as `openssl req -x509 -subj /CN=… -addext
// subjectAltName=…` gives, CA:TRUE when self-signed.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

export interface Certificate {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface CertificateOptions {
  /** Subject common name. */
  cn: string;
  /** subjectAltName entries: IPv4 addresses become iPAddress, anything else dNSName. */
  altNames?: string[];
  /** Signs with this issuer (a certificate made here with `ca: true`); self-signed when absent. */
  issuer?: Certificate & { cn: string };
  /** basicConstraints cA; defaults to true for a self-signed certificate, as `openssl req -x509` does. */
  ca?: boolean;
  days?: number;
}

// DER, X.690 section 8: tag, definite length, contents.
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
};
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const name = (cn: string) => seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const utcTime = (d: Date) => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0)));

/** RFC 5280 section 4.2.1.2, method (1): SHA-1 of the subjectPublicKey bits. */
function keyId(spki: Buffer): Buffer {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
  const outer = readTlv(spki, 0);
  const algorithm = readTlv(spki, outer.start);
  const key = readTlv(spki, algorithm.end);
  return createHash('sha1').update(spki.subarray(key.start + 1, key.end)).digest();
}

function readTlv(b: Buffer, at: number): { start: number; end: number } {
  const first = b[at + 1]!;
  const lenBytes = first < 0x80 ? 0 : first & 0x7f;
  let len = first < 0x80 ? first : 0;
  for (let i = 0; i < lenBytes; i++) len = len * 256 + b[at + 2 + i]!;
  const start = at + 2 + lenBytes;
  return { start, end: start + len };
}

/**
 * A certificate serial from random bytes: a positive DER INTEGER in its minimal form (X.690 §8.3.2:
 * the first nine bits not all equal). Clearing only the top bit left a leading 0x00 before a byte
 * under 0x80 about once in 256 certificates, which OpenSSL refuses ("illegal padding").
 */
export function serialNumber(random: Buffer): Buffer {
  const b = Buffer.from(random);
  b[0] = 0x40 | (b[0]! & 0x3f);
  return b;
}

function publicKeyDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function makeCertificate(o: CertificateOptions): Certificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKeyDer(publicKey);
  const selfSigned = !o.issuer;
  const signer = o.issuer ? o.issuer.key : privateKey;
  const issuerSpki = o.issuer ? publicKeyDer(createPublicFromPem(o.issuer.cert)) : spki;
  const isCa = o.ca ?? selfSigned;
  const serial = serialNumber(randomBytes(16));
  const now = Date.now();
  const exts = [
    extension('2.5.29.19', isCa, seq(...(isCa ? [bool(true)] : []))),
    extension('2.5.29.14', false, octets(keyId(spki))),
    extension('2.5.29.35', false, seq(tlv(0x80, keyId(issuerSpki)))),
  ];
  if (o.altNames?.length) {
    const general = o.altNames.map((n) => (isIPv4(n) ? tlv(0x87, Buffer.from(n.split('.').map(Number))) : tlv(0x82, Buffer.from(n, 'ascii'))));
    exts.push(extension('2.5.29.17', false, seq(...general)));
  }
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    SHA256_RSA,
    name(o.issuer ? o.issuer.cn : o.cn),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + (o.days ?? 2) * 86_400_000))),
    name(o.cn),
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, SHA256_RSA, bitString(signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return { cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function createPublicFromPem(pem: string): KeyObject {
  return new X509Certificate(pem).publicKey;
}

/** Writes the PEM certificate and key to the given files (the key readable by its owner only). */
export function writeCertificate(certFile: string, keyFile: string, o: CertificateOptions): Certificate {
  const c = makeCertificate(o);
  writeFileSync(certFile, c.cert);
  writeFileSync(keyFile, c.key, { mode: 0o600 });
  return c;
}
