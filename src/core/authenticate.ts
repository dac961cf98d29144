// Turns the credentials a transport saw into a principal: nobody, a provisioning account
// (site, staging or one phone's own), or a phone proven by its client certificate.
// Passwords are only ever compared as HA1 (the store keeps nothing else). The staging account is
// each tenant's own (issue 14: staging is per tenant): it authenticates under a tenant's prefix
// while that tenant's staging is on, and belongs to that tenant.
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseMac } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import { DEFAULT_TENANT } from '../domain.ts';
import { ha1 } from './digest.ts';
import type { Account, Store } from '../store/store.ts';
import type { DigestAuthority } from './digest-auth.ts';
import { ProvError } from '../errors.ts';
import type { AuthChallenge, BootRequest, Credentials } from './request.ts';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'account'; account: Account }
  | { kind: 'cert'; mac?: Mac; name: string };

const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' as const });
/** What a request without credentials authenticates as. */
const NO_CREDENTIALS: AuthOutcome = Object.freeze({ principal: ANONYMOUS });

/** A request that names no tenant yet (FTP's login): the staging account passes when any tenant's staging is on. */
export const ANY_TENANT = '*';

/** The factory account (guide: "PlcmSpIp / PlcmSpIp"), honoured only while staging is on. */
export const STAGING_USER = 'PlcmSpIp';
export const STAGING_PASSWORD = 'PlcmSpIp';

export interface AuthOutcome {
  principal?: Principal;
  error?: ProvError;
  /** Ask for credentials again (401 with fresh challenges). */
  challenge?: boolean;
  stale?: boolean;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Authenticator {
  private readonly cache = new Map<string, { account: Account | undefined; at: number }>();
  private readonly staging: Account;

  constructor(
    private readonly store: Store,
    readonly digest: DigestAuthority,
    /** Whether staging is on for a tenant. */
    private readonly stagingOn: (tenant: string) => boolean | Promise<boolean>,
    private readonly cacheMs = 2000,
    /**
     * `open` policy: an FTP login that names no account (anonymous, the factory PlcmSpIp with
     * staging off, a stale password) reads as anonymous does over HTTP (issue 13 item 5). The
     * per-phone rules still apply: an anonymous principal never reaches a bound phone's files.
     */
    private readonly openLogins = false,
  ) {
    const realm = digest.realm;
    this.staging = {
      user: STAGING_USER,
      kind: 'staging',
      realm,
      ha1Md5: ha1('MD5', STAGING_USER, realm, STAGING_PASSWORD),
      ha1Sha256: ha1('SHA-256', STAGING_USER, realm, STAGING_PASSWORD),
      createdAt: new Date(0),
    };
  }

  /** Drops cached accounts (after enrolment or an `accounts` change seen through the store). */
  forget(user?: string): void {
    if (user === undefined) this.cache.clear();
    else this.cache.delete(user);
  }

  private async account(user: string, tenant: string): Promise<Account | undefined> {
    if (user === STAGING_USER) {
      if (!(await this.stagingOn(tenant))) return undefined;
      return tenant === DEFAULT_TENANT || tenant === ANY_TENANT ? this.staging : { ...this.staging, tenant };
    }
    const now = Date.now();
    const hit = this.cache.get(user);
    if (hit && now - hit.at < this.cacheMs) return hit.account;
    let account: Account | undefined;
    try {
      account = await this.store.accounts.get(user);
    } catch (err) {
      // Issue 16: a node that lost its database still knows the accounts it has seen (changes reach
      // it through the store's feed, which drops the entry); an account never seen is "retry later".
      if (hit && err instanceof ProvError && err.code === 'PP_STORE_UNAVAILABLE') return hit.account;
      throw err;
    }
    this.cache.set(user, { account, at: now });
    if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value as string);
    return account;
  }

  /**
   * `tenant`: the tenant whose prefix the request is under (its staging switch decides PlcmSpIp).
   * A request without credentials is answered at once, no promise (issue 16, Speed).
   */
  authenticate(req: BootRequest, tenant: string = DEFAULT_TENANT): AuthOutcome | Promise<AuthOutcome> {
    return req.credentials ? this.check(req.credentials, req, tenant) : NO_CREDENTIALS;
  }

  private async check(c: Credentials, req: BootRequest, tenant: string): Promise<AuthOutcome> {
    switch (c.kind) {
      case 'cert': {
        // A phone's device certificate names it by MAC in the subject CN or a SAN.
        const names = [c.subjectCN ?? '', ...c.subjectAltNames];
        let mac: Mac | undefined;
        for (const n of names) {
          const m = /(?:^|[^0-9a-f])([0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5})(?:$|[^0-9a-f])/i.exec(n);
          if (m && (mac = parseMac(m[1]!))) break;
        }
        return { principal: { kind: 'cert', mac, name: c.subjectCN ?? c.subjectAltNames[0] ?? c.fingerprint256 } };
      }
      case 'basic':
      case 'login': {
        const account = await this.account(c.user, tenant);
        if (!account || !sameHex(ha1('MD5', c.user, account.realm, c.password), account.ha1Md5)) {
          if (c.kind === 'login' && this.openLogins) return { principal: ANONYMOUS };
          return { error: new ProvError('PP_AUTH_FAILED', `wrong user or password for "${c.user}"`), challenge: true };
        }
        return { principal: { kind: 'account', account } };
      }
      case 'digest': {
        const account = c.fields.username ? await this.account(c.fields.username, tenant) : undefined;
        const v = await this.digest.verify(c.fields, c.method, req.path, account);
        if (v.ok && account) return { principal: { kind: 'account', account } };
        if (!v.ok && (v.reason === 'stale' || v.reason === 'replayed')) {
          return { error: new ProvError('PP_DIGEST_NONCE_REPLAYED', `digest nonce ${v.reason}`), challenge: true, stale: v.reason === 'stale' };
        }
        return { error: new ProvError('PP_AUTH_FAILED', `digest authentication failed (${v.ok ? 'unknown-user' : v.reason})`), challenge: true };
      }
    }
  }
}

/** A short name for logs and audit (never a secret). */
export function principalName(p: Principal): string | undefined {
  return p.kind === 'account' ? p.account.user : p.kind === 'cert' ? `cert:${p.name}` : undefined;
}

/** The opaque value sent with every challenge (RFC 7616 §3.3: returned unchanged by the client). */
const opaqueOf = new Map<string, string>();

/**
 * A challenge as data, with a fresh signed nonce: Digest SHA-256 then MD5 (RFC 7616 §3.7, one
 * challenge per algorithm, strongest first), then Basic. Each adapter formats it for its wire.
 */
export function challengeOf(digest: DigestAuthority, stale: boolean): AuthChallenge {
  let opaque = opaqueOf.get(digest.realm);
  if (opaque === undefined) {
    opaque = createHash('sha256').update(digest.realm).digest('hex').slice(0, 16);
    opaqueOf.set(digest.realm, opaque);
  }
  return { realm: digest.realm, nonce: digest.nonce(), opaque, algorithms: ALGORITHMS, qop: 'auth', stale, basic: true };
}

const ALGORITHMS = ['SHA-256', 'MD5'] as const;
