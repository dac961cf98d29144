import { describe, expect, test } from 'vitest';
import { DigestClient, digestResponse, parseAuthParams, parseChallenge } from './digest.ts';

describe('Digest (RFC 2617 / RFC 7616)', () => {
  test('RFC 2617 §3.5 worked example: Mufasa / "Circle Of Life" gives 6629fae49393a05397450978507c4ef1', () => {
    expect(
      digestResponse({ algorithm: 'MD5', user: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  test('RFC 7616 §3.9.1 worked example, MD5 and SHA-256', () => {
    const base = { user: 'Mufasa', realm: 'http-auth@example.org', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', qop: 'auth' as const, nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
    expect(digestResponse({ ...base, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...base, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  test('RFC 2069 compatibility (no qop): H(HA1:nonce:HA2)', () => {
    // sipp's own unit test vector (auth.cpp, BasicVerification): testuser/secret, REGISTER sip:sip:example.com.
    expect(digestResponse({ algorithm: 'MD5', user: 'testuser', realm: 'testrealm@host.com', password: 'secret', method: 'REGISTER', uri: 'sip:sip:example.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' })).toBe('db94e01e92f2b09a52a234eeca8b90f7');
  });

  test('facts §4.1: parses the phone challenge realm="PolycomSPIP", qop="auth"', () => {
    expect(parseChallenge('Digest realm="PolycomSPIP", nonce="abc", qop="auth"')).toEqual({ realm: 'PolycomSPIP', nonce: 'abc', opaque: undefined, algorithm: 'MD5', qop: ['auth'], stale: false });
    expect(parseChallenge('Digest realm="r",nonce="n",qop="auth,auth-int",algorithm=SHA-256,stale=TRUE,opaque="o"')).toMatchObject({ algorithm: 'SHA-256', qop: ['auth', 'auth-int'], stale: true, opaque: 'o' });
    expect(parseChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseChallenge('Digest nonce="n"')).toBeUndefined();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=MD7')).toBeUndefined();
    expect(parseAuthParams('a="x, y", b=z')).toEqual(new Map([['a', 'x, y'], ['b', 'z']]));
  });

  test('RFC 2617 §3.2.2: nc counts per nonce, qop and nc unquoted, opaque echoed', () => {
    let i = 0;
    const c = new DigestClient(() => `cn${i++}`);
    const ch = parseChallenge('Digest realm="PolycomSPIP", nonce="n1", qop="auth", opaque="op"')!;
    const a1 = c.authorize(ch, { user: '1001', password: 'p' }, 'NOTIFY', 'sip:1001@10.0.0.5')!;
    const a2 = c.authorize(ch, { user: '1001', password: 'p' }, 'NOTIFY', 'sip:1001@10.0.0.5')!;
    expect(a1).toContain('nc=00000001');
    expect(a2).toContain('nc=00000002');
    expect(a1).toContain('qop=auth,');
    expect(a1).toContain('opaque="op"');
    const p = parseAuthParams(a1.replace(/^Digest /, ''));
    expect(p.get('response')).toBe(digestResponse({ algorithm: 'MD5', user: '1001', realm: 'PolycomSPIP', password: 'p', method: 'NOTIFY', uri: 'sip:1001@10.0.0.5', nonce: 'n1', qop: 'auth', nc: '00000001', cnonce: 'cn0' }));
    // Only auth-int offered: we do not pretend.
    expect(c.authorize(parseChallenge('Digest realm="r", nonce="n", qop="auth-int"')!, { user: 'u', password: 'p' }, 'NOTIFY', 'sip:x')).toBeUndefined();
  });

  test('a user name with a quote cannot break out of the quoted string', () => {
    const a = new DigestClient(() => 'c').authorize(parseChallenge('Digest realm="r", nonce="n"')!, { user: 'a"b', password: 'p' }, 'NOTIFY', 'sip:x')!;
    expect(a).toContain('username="a\\"b"');
  });
});
