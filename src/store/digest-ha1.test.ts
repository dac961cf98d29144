import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { ha1, makeAccount } from './digest-ha1.ts';

// RFC 7616 §3.9.1 example: the response computed from our HA1 must equal the RFC's published one.
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const nonce = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

test('RFC 7616 §3.9.1: MD5 HA1 yields the example response 8ca523f5…', () => {
  const h1 = ha1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  const h2 = md5('GET:/dir/index.html');
  expect(md5(`${h1}:${nonce}:00000001:${cnonce}:auth:${h2}`)).toBe('8ca523f5e9506fed4657c9700eebdbec');
});

test('RFC 7616 §3.9.1: SHA-256 HA1 yields the example response 753927fa…', () => {
  const h1 = ha1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
  const h2 = sha256('GET:/dir/index.html');
  expect(sha256(`${h1}:${nonce}:00000001:${cnonce}:auth:${h2}`)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

test('RFC 7616 §3.4.2: makeAccount keeps both HA1 values and no password; refuses ":" in the user', () => {
  const a = makeAccount('phone', 'p1', 's3cret-pw', 'polyprov', '0004f2000001' as never);
  expect(a).toMatchObject({ user: 'p1', kind: 'phone', realm: 'polyprov', mac: '0004f2000001' });
  expect(a.ha1Md5).toBe(md5('p1:polyprov:s3cret-pw'));
  expect(a.ha1Sha256).toBe(sha256('p1:polyprov:s3cret-pw'));
  expect(JSON.stringify(a)).not.toContain('s3cret-pw');
  expect(() => makeAccount('site', 'a:b', 'x', 'polyprov')).toThrow();
});
