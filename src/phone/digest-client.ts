// The virtual phone's answer to a boot server's 401 (facts §3.5: phones answer Basic and Digest):
// the strongest Digest offered (RFC 7616 §3.7), else RFC 7617 Basic. The Digest syntax and
// hashes are the one module's (src/core/digest.ts); what is the phone's own is the choice and
// the session: one challenge reused with one cnonce and a growing nonce count, as a phone does
// until the server says the nonce is stale.
import { randomBytes } from 'node:crypto';
import { DigestClient, strongestDigest, type AuthChallenge, type DigestAlgorithm, type DigestChallenge } from '../core/digest.ts';

/** One server challenge, reused with a growing nonce count (RFC 7616 §3.4). */
export class DigestSession {
  private readonly client: DigestClient;
  constructor(
    readonly challenge: DigestChallenge,
    private readonly user: string,
    private readonly password: string,
  ) {
    const cnonce = randomBytes(8).toString('hex');
    this.client = new DigestClient(() => cnonce);
  }

  get algorithm(): DigestAlgorithm {
    return this.challenge.algorithm;
  }

  authorization(method: string, uri: string): string {
    // strongestDigest() only picks challenges offering qop=auth or none, which authorize() answers.
    return this.client.authorize(this.challenge, { user: this.user, password: this.password }, method, uri)!;
  }
}

/**
 * Chooses how to answer a 401: the strongest Digest we support (qop=auth or none; auth-int is
 * not offered by boot servers), else Basic. Undefined when nothing usable was offered.
 */
export function chooseAuth(challenges: readonly AuthChallenge[], user: string, password: string): { kind: 'digest'; session: DigestSession } | { kind: 'basic'; header: string } | undefined {
  const best = strongestDigest(challenges);
  if (best) return { kind: 'digest', session: new DigestSession(best, user, password) };
  if (challenges.some((c) => c.scheme === 'basic')) {
    return { kind: 'basic', header: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
  }
  return undefined;
}
