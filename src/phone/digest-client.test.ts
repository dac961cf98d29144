import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { parseAuthorization, parseChallenges, verifyDigestResponse } from '../core/digest.ts';
import { chooseAuth } from './digest-client.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('facts §3.5: answering a boot server 401', () => {
  test('RFC 7235 §4.1: several challenges in one header and across headers', () => {
    const c = parseChallenges(['Digest realm="polyprov", nonce="abc", qop="auth,auth-int", algorithm=SHA-256, Basic realm="polyprov"', 'Digest realm="r2", nonce="n2"']);
    expect(c.map((x) => x.scheme)).toEqual(['digest', 'basic', 'digest']);
    expect(c[0]!.params).toEqual({ realm: 'polyprov', nonce: 'abc', qop: 'auth,auth-int', algorithm: 'SHA-256' });
    expect(c[2]!.params).toEqual({ realm: 'r2', nonce: 'n2' });
  });

  test('RFC 7616 §3.7: SHA-256 preferred over MD5, Digest over Basic; auth-int-only challenges skipped', () => {
    const c = parseChallenges(['Basic realm="x"', 'Digest realm="x", nonce="1", qop="auth", algorithm=MD5', 'Digest realm="x", nonce="2", qop="auth", algorithm=SHA-256']);
    const a = chooseAuth(c, 'u', 'p');
    expect(a?.kind === 'digest' && a.session.algorithm).toBe('SHA-256');
    expect(chooseAuth(parseChallenges('Digest realm="x", nonce="1", qop="auth-int"'), 'u', 'p')).toBeUndefined();
    expect(chooseAuth(parseChallenges('Basic realm="x"'), 'u', 'p')).toEqual({ kind: 'basic', header: `Basic ${Buffer.from('u:p').toString('base64')}` });
  });

  test('RFC 7616 §3.4.1: the MD5 qop=auth response, with a growing nonce count, verifies', () => {
    const a = chooseAuth(parseChallenges('Digest realm="PolycomSPIP", nonce="n0nce", qop="auth", opaque="op"'), 'Mufasa', 'Circle of Life');
    if (a?.kind !== 'digest') throw new Error('expected digest');
    const h1 = parseAuthorization(a.session.authorization('GET', '/sip.cfg'))!;
    const h2 = parseAuthorization(a.session.authorization('GET', '/sip.cfg'))!;
    expect(h1.params.nc).toBe('00000001');
    expect(h2.params.nc).toBe('00000002');
    expect(h1.params.opaque).toBe('op');
    const p = h1.params;
    const expected = md5(`${md5('Mufasa:PolycomSPIP:Circle of Life')}:n0nce:${p.nc}:${p.cnonce}:auth:${md5('GET:/sip.cfg')}`);
    expect(p.response).toBe(expected);
    expect(verifyDigestResponse(p, 'GET', { password: 'Circle of Life' })).toBe(true);
    expect(verifyDigestResponse(p, 'GET', { password: 'wrong' })).toBe(false);
    expect(verifyDigestResponse(p, 'PUT', { password: 'Circle of Life' })).toBe(false);
  });

  test('RFC 2617 §3.2.2.1: without qop the response is H(HA1:nonce:HA2)', () => {
    const a = chooseAuth(parseChallenges('Digest realm="r", nonce="n"'), 'u', 'p');
    if (a?.kind !== 'digest') throw new Error('expected digest');
    const p = parseAuthorization(a.session.authorization('GET', '/x'))!.params;
    expect(p.qop).toBeUndefined();
    expect(p.response).toBe(md5(`${md5('u:r:p')}:n:${md5('GET:/x')}`));
  });
});
