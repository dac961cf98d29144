// The one Digest module against published vectors: RFC 7616 §3.9.1 (MD5 and SHA-256), RFC 2617
// §3.5, the RFC 2069 form SIP still meets (RFC 3261 §22.4), the -sess HA1 (RFC 7616 §3.4.2), and
// the header syntax of RFC 7235 §4.1 as servers, SIP phones and sipp write it.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  DigestClient,
  digestChallenge,
  digestResponse,
  ha1,
  makeAccount,
  parseAuthorization,
  parseAuthParams,
  parseChallenges,
  strongestDigest,
  verifyDigestResponse,
} from './digest.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

// RFC 7616 §3.9.1: Mufasa / "Circle of Life", realm http-auth@example.org, GET /dir/index.html.
const rfc7616 = {
  user: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  qop: 'auth' as const,
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};
const RFC7616_MD5 = '8ca523f5e9506fed4657c9700eebdbec';
const RFC7616_SHA256 = '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1';

describe('RFC 7616 §3.9.1 example', () => {
  test('MD5 and SHA-256 responses from the password and from the stored HA1', () => {
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe(RFC7616_MD5);
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe(RFC7616_SHA256);
    const h1 = ha1('SHA-256', rfc7616.user, rfc7616.realm, rfc7616.password);
    expect(digestResponse({ ...rfc7616, algorithm: 'SHA-256', password: undefined, ha1: h1 })).toBe(RFC7616_SHA256);
    expect(digestResponse({ ...rfc7616, algorithm: 'MD5', password: undefined, ha1: ha1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') })).toBe(RFC7616_MD5);
  });

  test('the example Authorization header parses and verifies against HA1; a changed method or HA1 does not', () => {
    const header = `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="${rfc7616.nonce}", nc=00000001, cnonce="${rfc7616.cnonce}", qop=auth, response="${RFC7616_SHA256}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
    const a = parseAuthorization(header)!;
    expect(a.scheme).toBe('digest');
    expect(a.params).toMatchObject({ username: 'Mufasa', algorithm: 'SHA-256', nc: '00000001', qop: 'auth', response: RFC7616_SHA256 });
    const h1 = ha1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(verifyDigestResponse(a.params, 'GET', { ha1: h1 })).toBe(true);
    expect(verifyDigestResponse(a.params, 'PUT', { ha1: h1 })).toBe(false);
    expect(verifyDigestResponse(a.params, 'GET', { ha1: ha1('SHA-256', 'Mufasa', 'http-auth@example.org', 'circle of life') })).toBe(false);
    expect(verifyDigestResponse({ ...a.params, qop: 'auth-int' }, 'GET', { ha1: h1 })).toBe(false);
  });
});

describe('Digest responses (RFC 2617, RFC 7616 §3.4)', () => {
  test('RFC 2617 §3.5 worked example: Mufasa / "Circle Of Life" gives 6629fae49393a05397450978507c4ef1', () => {
    expect(
      digestResponse({ algorithm: 'MD5', user: 'Mufasa', realm: 'testrealm@host.com', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: 'auth', nc: '00000001', cnonce: '0a4f113b' }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  test('RFC 2069 compatibility (no qop, RFC 3261 §22.4): H(HA1:nonce:HA2)', () => {
    // sipp's own unit test vector (auth.cpp, BasicVerification): testuser/secret, REGISTER sip:sip:example.com.
    expect(digestResponse({ algorithm: 'MD5', user: 'testuser', realm: 'testrealm@host.com', password: 'secret', method: 'REGISTER', uri: 'sip:sip:example.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' })).toBe('db94e01e92f2b09a52a234eeca8b90f7');
  });

  test('RFC 7616 §3.4.2: -sess HA1 is H(H(user:realm:password):nonce:cnonce), for MD5 and SHA-256', () => {
    for (const [alg, H] of [['MD5-sess', md5], ['SHA-256-sess', sha256]] as const) {
      const sess = H(`${H('Mufasa:http-auth@example.org:Circle of Life')}:${rfc7616.nonce}:${rfc7616.cnonce}`);
      const want = H(`${sess}:${rfc7616.nonce}:00000001:${rfc7616.cnonce}:auth:${H('GET:/dir/index.html')}`);
      expect(digestResponse({ ...rfc7616, algorithm: alg })).toBe(want);
      const fields = { username: 'Mufasa', realm: rfc7616.realm, nonce: rfc7616.nonce, uri: rfc7616.uri, algorithm: alg, qop: 'auth', nc: '00000001', cnonce: rfc7616.cnonce, response: want };
      expect(verifyDigestResponse(fields, 'GET', { password: 'Circle of Life' })).toBe(true);
    }
  });

  test('RFC 7616 §3.4.2: makeAccount keeps both HA1 values and no password; refuses ":" in the user', () => {
    const a = makeAccount('phone', 'p1', 's3cret-pw', 'polyprov', '0004f2000001' as never);
    expect(a).toMatchObject({ user: 'p1', kind: 'phone', realm: 'polyprov', mac: '0004f2000001' });
    expect(a.ha1Md5).toBe(md5('p1:polyprov:s3cret-pw'));
    expect(a.ha1Sha256).toBe(sha256('p1:polyprov:s3cret-pw'));
    expect(JSON.stringify(a)).not.toContain('s3cret-pw');
    expect(() => makeAccount('site', 'a:b', 'x', 'polyprov')).toThrow(TypeError);
  });
});

describe('header syntax (RFC 7235 §4.1)', () => {
  test('several challenges in one header and across headers; quoted commas and escapes', () => {
    const c = parseChallenges(['Digest realm="polyprov", nonce="abc", qop="auth,auth-int", algorithm=SHA-256, Basic realm="polyprov"', 'Digest realm="r2", nonce="n2"']);
    expect(c.map((x) => x.scheme)).toEqual(['digest', 'basic', 'digest']);
    expect(c[0]!.params).toEqual({ realm: 'polyprov', nonce: 'abc', qop: 'auth,auth-int', algorithm: 'SHA-256' });
    expect(parseAuthParams('a="x, y", b=z, c = "q\\"d"')).toEqual({ a: 'x, y', b: 'z', c: 'q"d' });
    expect(parseAuthParams('__proto__="x", a=1')).toEqual({ a: '1' });
  });

  test('facts §4.1: the phone challenge realm="PolycomSPIP", qop="auth"; unusable challenges refused', () => {
    expect(digestChallenge('Digest realm="PolycomSPIP", nonce="abc", qop="auth"')).toEqual({ realm: 'PolycomSPIP', nonce: 'abc', opaque: undefined, algorithm: 'MD5', qop: ['auth'], stale: false });
    expect(digestChallenge('Digest realm="r",nonce="n",qop="auth,auth-int",algorithm=SHA-256,stale=TRUE,opaque="o"')).toMatchObject({ algorithm: 'SHA-256', qop: ['auth', 'auth-int'], stale: true, opaque: 'o' });
    expect(digestChallenge('Digest realm="r", nonce="n", algorithm=sha-256-SESS')?.algorithm).toBe('SHA-256-sess');
    expect(digestChallenge('Basic realm="x"')).toBeUndefined();
    expect(digestChallenge('Digest nonce="n"')).toBeUndefined();
    expect(digestChallenge('Digest realm="r", nonce="n", algorithm=MD7')).toBeUndefined();
  });

  test('RFC 7616 §3.7: the strongest challenge is SHA-256; auth-int-only challenges are skipped', () => {
    const c = parseChallenges(['Digest realm="x", nonce="1", qop="auth", algorithm=MD5', 'Digest realm="x", nonce="2", qop="auth", algorithm=SHA-256', 'Digest realm="x", nonce="3", qop="auth-int", algorithm=SHA-256']);
    expect(strongestDigest(c)?.nonce).toBe('2');
    expect(strongestDigest(parseChallenges('Digest realm="x", nonce="1", qop="auth-int"'))).toBeUndefined();
  });
});

describe('DigestClient', () => {
  test('RFC 7616 §3.4: nc counts per nonce, qop and nc unquoted, opaque echoed, the response verifies', () => {
    let i = 0;
    const c = new DigestClient(() => `cn${i++}`);
    const ch = digestChallenge('Digest realm="PolycomSPIP", nonce="n1", qop="auth", opaque="op"')!;
    const a1 = c.authorize(ch, { user: '1001', password: 'p' }, 'NOTIFY', 'sip:1001@10.0.0.5')!;
    const a2 = c.authorize(ch, { user: '1001', password: 'p' }, 'NOTIFY', 'sip:1001@10.0.0.5')!;
    expect(a1).toContain('nc=00000001');
    expect(a2).toContain('nc=00000002');
    expect(a1).toContain('qop=auth,');
    expect(a1).toContain('opaque="op"');
    const p = parseAuthorization(a1)!.params;
    expect(p.response).toBe(digestResponse({ algorithm: 'MD5', user: '1001', realm: 'PolycomSPIP', password: 'p', method: 'NOTIFY', uri: 'sip:1001@10.0.0.5', nonce: 'n1', qop: 'auth', nc: '00000001', cnonce: 'cn0' }));
    expect(verifyDigestResponse(parseAuthorization(a2)!.params, 'NOTIFY', { ha1: ha1('MD5', '1001', 'PolycomSPIP', 'p') })).toBe(true);
    // Only auth-int offered: we do not pretend.
    expect(c.authorize(digestChallenge('Digest realm="r", nonce="n", qop="auth-int"')!, { user: 'u', password: 'p' }, 'NOTIFY', 'sip:x')).toBeUndefined();
  });

  test('a user name with a quote cannot break out of the quoted string', () => {
    const a = new DigestClient(() => 'c').authorize(digestChallenge('Digest realm="r", nonce="n"')!, { user: 'a"b', password: 'p' }, 'NOTIFY', 'sip:x')!;
    expect(a).toContain('username="a\\"b"');
    expect(parseAuthorization(a)!.params.username).toBe('a"b');
  });
});
