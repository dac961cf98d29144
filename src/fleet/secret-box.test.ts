import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isProvError } from '../errors.ts';
import { isSealed, SecretBox, settingAad } from './secret-box.ts';
import { codeOf } from '../../test/support/thrown.ts';

const key = Buffer.alloc(32, 7);
const aad = settingAad('phone:0004f2000001', 'reg.1.auth.password');

describe('the secret box (issue 14, Secrets: "encrypted at rest with an authenticated cipher")', () => {
  test('issue 14 Secrets: seal then open gives the clear value back; the text form is v1.iv.tag.ct and hides it', () => {
    const box = new SecretBox(key);
    const clear = 'p"&<\'> ü \u{1F600}';
    const sealed = box.seal(clear, aad);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('p"&');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('p"&');
    expect(box.open(sealed, aad)).toBe(clear);
    expect(box.open(box.seal('', aad), aad)).toBe('');
  });

  test('issue 14 Secrets: a random IV per value: sealing the same value twice gives different texts', () => {
    const box = new SecretBox(key);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(box.seal('same', aad));
    expect(seen.size).toBe(50);
  });

  test('issue 14 Secrets: another key cannot open → PP_FLEET_KEY_MISMATCH', () => {
    const sealed = new SecretBox(key).seal('secret', aad);
    expect(codeOf(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, aad))).toBe('PP_FLEET_KEY_MISMATCH');
  });

  test('issue 14 Secrets: a sealed value moved to another scope or name does not open (AAD)', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('secret', aad);
    expect(codeOf(() => box.open(sealed, settingAad('phone:0004f2000002', 'reg.1.auth.password')))).toBe('PP_FLEET_KEY_MISMATCH');
    expect(codeOf(() => box.open(sealed, settingAad('phone:0004f2000001', 'reg.2.auth.password')))).toBe('PP_FLEET_KEY_MISMATCH');
  });

  test('issue 14 Secrets: any altered character of the text is detected, never a wrong clear value', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('a secret value', aad);
    fc.assert(
      fc.property(fc.nat(sealed.length - 1), fc.constantFrom(...'ABCabc012_-.x'), (i, ch) => {
        const bad = sealed.slice(0, i) + ch + sealed.slice(i + 1);
        if (bad === sealed) return;
        let out: string | undefined;
        try {
          out = box.open(bad, aad);
        } catch (e) {
          expect(isProvError(e) && e.code).toBe('PP_FLEET_KEY_MISMATCH');
          return;
        }
        // base64url's last character can carry unused bits: the same bytes decode, so the clear value is intact.
        expect(out).toBe('a secret value');
      }),
      { seed: 14, numRuns: 300 },
    );
    expect(codeOf(() => box.open('v2.x.y.z', aad))).toBe('PP_FLEET_KEY_MISMATCH');
    expect(codeOf(() => box.open('plain text', aad))).toBe('PP_FLEET_KEY_MISMATCH');
  });

  test('issue 14 Secrets: the check value tells the sealing key from any other', () => {
    const a = new SecretBox(key);
    const check = a.makeCheck();
    expect(a.verifyCheck(check)).toBe(true);
    expect(new SecretBox(Buffer.from(key)).verifyCheck(check)).toBe(true);
    expect(new SecretBox(randomBytes(32)).verifyCheck(check)).toBe(false);
    expect(a.verifyCheck('garbage')).toBe(false);
    expect(a.verifyCheck(a.seal('polyprov secret key check v1', aad))).toBe(false);
  });

  test('issue 14 Secrets: a key that is not 32 bytes is refused with PP_FLEET_KEY_MISSING', () => {
    expect(codeOf(() => new SecretBox(Buffer.alloc(16)))).toBe('PP_FLEET_KEY_MISSING');
  });

  test('issue 14 Secrets: the box keeps its own copy of the key (a caller wiping its buffer changes nothing)', () => {
    const k = Buffer.alloc(32, 9);
    const box = new SecretBox(k);
    const sealed = box.seal('x', aad);
    k.fill(0);
    expect(box.open(sealed, aad)).toBe('x');
  });
});
