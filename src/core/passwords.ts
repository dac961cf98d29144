// Provisioning passwords: the one generator (accounts --generate, staging enrolment) and the one
// derivation of a pending phone's enrolment password. Letters and digits only, without the
// look-alikes (0/O, 1/l/I): phones take a password from a configuration file or a keypad, and
// URLs carry it without escaping (Administrator's Guide, Server Menu; RFC 1738).
import { createHmac, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** 20 characters of a 57-letter alphabet: about 116 bits. */
export const PASSWORD_LENGTH = 20;
/** Bytes at or above this are skipped, so every letter is equally likely (no modulo bias). */
const UNBIASED = 256 - (256 % ALPHABET.length);

/** Letters from a byte stream: `next(n)` returns n more bytes each call. */
function fromBytes(next: (n: number) => Buffer, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of next(length * 2)) {
      if (b < UNBIASED) out += ALPHABET[b % ALPHABET.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A fresh random password. */
export function generatePassword(length = PASSWORD_LENGTH): string {
  return fromBytes((n) => randomBytes(n), length);
}

/**
 * A password derived from a secret and a label (HMAC-SHA256 in counter mode): the same inputs
 * give the same password, and nothing stored lets it be recovered without the secret.
 */
export function derivePassword(secret: Buffer, label: string, length = PASSWORD_LENGTH): string {
  let block = 0;
  return fromBytes(() => createHmac('sha256', secret).update(`${label}\u0000${block++}`).digest(), length);
}
