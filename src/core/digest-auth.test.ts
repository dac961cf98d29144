// The boot server's Digest authority on its own: signed nonces bound to the process that issued
// them (issue 13 item 9), nonce counts that cannot be replayed, and RFC 7616 §3.3's rule that
// stale=true is only said for a response that was right.
import { describe, expect, test } from 'vitest';
import { challengeOf } from './authenticate.ts';
import { DigestClient, makeAccount, parseAuthorization } from './digest.ts';
import { DigestAuthority } from './digest-auth.ts';

const secret = Buffer.alloc(32, 7);
const account = makeAccount('site', 'site', 'pw', 'polyprov');

function answer(auth: DigestAuthority, password = 'pw', method = 'GET', uri = '/site.cfg', client = new DigestClient()) {
  const c = challengeOf(auth, false);
  const ch = { realm: c.realm, nonce: c.nonce, opaque: c.opaque, algorithm: c.algorithms[0]!, qop: [c.qop], stale: c.stale };
  return parseAuthorization(client.authorize(ch, { user: 'site', password }, method, uri)!)!.params;
}

describe('DigestAuthority (RFC 7616 §3.3, §3.4)', () => {
  test('a right response is accepted once; the same nonce count again is replayed; a higher one is accepted', () => {
    const auth = new DigestAuthority('polyprov', secret, 60_000);
    const client = new DigestClient();
    const f1 = answer(auth, 'pw', 'GET', '/site.cfg', client);
    expect(auth.verify(f1, 'GET', '/site.cfg', account)).toEqual({ ok: true, user: 'site' });
    expect(auth.verify(f1, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'replayed' });
    const f2 = { ...f1, nc: '00000002' };
    // A changed nc without a recomputed response is a wrong response, not a replay.
    expect(auth.verify(f2, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'bad-response' });
  });

  test('issue 13 item 9: a nonce signed with the same secret by another process (another epoch) is stale, never accepted', () => {
    const before = new DigestAuthority('polyprov', secret, 60_000);
    const after = new DigestAuthority('polyprov', secret, 60_000);
    expect(after.epoch).not.toBe(before.epoch);
    const captured = answer(before);
    expect(after.verify(captured, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'stale' });
    // The phone retries with a fresh nonce from the new process and gets in.
    expect(after.verify(answer(after), 'GET', '/site.cfg', account)).toEqual({ ok: true, user: 'site' });
  });

  test('RFC 7616 §3.3: stale only for a right response; a wrong password on an old nonce is a bad response', () => {
    const before = new DigestAuthority('polyprov', secret, 60_000);
    const after = new DigestAuthority('polyprov', secret, 60_000);
    expect(after.verify(answer(before, 'wrong'), 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'bad-response' });
  });

  test('an expired nonce, a nonce signed with another secret, and a response for another file are refused', () => {
    let now = 1_000_000;
    const auth = new DigestAuthority('polyprov', secret, 60_000, () => now);
    const f = answer(auth);
    now += 60_001;
    expect(auth.verify(f, 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'stale' });
    const other = new DigestAuthority('polyprov', Buffer.alloc(32, 8), 60_000, () => now, auth.epoch);
    expect(auth.verify(answer(other), 'GET', '/site.cfg', account)).toEqual({ ok: false, reason: 'stale' });
    expect(auth.verify(answer(auth), 'GET', '/other.cfg', account)).toEqual({ ok: false, reason: 'wrong-uri' });
  });
});
