// HA1 for HTTP Digest (RFC 7616 §3.4.2): H(username ":" realm ":" password). Storing HA1 per realm
// lets the server check Digest responses (and Basic, by hashing what it receives) without ever
// keeping a plain password. Both algorithms are kept because old phones only speak MD5 while
// RFC 7616 prefers SHA-256; the server offers the strongest first (RFC 7616 §3.7).
import { createHash } from 'node:crypto';
import type { Mac } from '../domain.ts';
import type { Account, AccountKind } from './store.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export function ha1(alg: DigestAlgorithm, user: string, realm: string, password: string): string {
  // RFC 7616 §4 (charset=UTF-8): the strings are hashed as UTF-8 octets.
  return createHash(alg === 'MD5' ? 'md5' : 'sha256').update(`${user}:${realm}:${password}`, 'utf8').digest('hex');
}

export function makeAccount(kind: AccountKind, user: string, password: string, realm: string, mac?: Mac): Account {
  if (user.includes(':')) throw new TypeError('a Digest user name cannot contain ":" (RFC 7617 §2, RFC 7616 §3.4.2)');
  const a: Account = {
    user,
    kind,
    realm,
    ha1Md5: ha1('MD5', user, realm, password),
    ha1Sha256: ha1('SHA-256', user, realm, password),
    createdAt: new Date(),
  };
  if (mac !== undefined) a.mac = mac;
  return a;
}
