// API tokens through the admin service (issue 15 "Who may do what"): `tokens add` makes a
// high-entropy token, prints it once and stores only its SHA-256; `list` and `revoke`; and
// `authenticate(bearer)`, which the REST API calls on every request. Adding and revoking are in
// the change record (never the token, only its name, role and tenant).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiToken, TokenRole } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';

/** Every token starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'ppt_';
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const TOKEN_SHAPE = /^ppt_[A-Za-z0-9_-]{43}$/;
export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'operator', 'read-only'];

/** A token as shown: everything but the hash. */
export interface TokenView {
  name: string;
  role: TokenRole;
  tenant?: string;
  createdAt: Date;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function viewOf(t: ApiToken): TokenView {
  const v: TokenView = { name: t.name, role: t.role, createdAt: t.createdAt };
  if (t.tenant !== undefined) v.tenant = t.tenant;
  return v;
}

export class AdminTokens {
  constructor(
    private readonly store: Store,
    private readonly changes: ChangeRecorder,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Creates a token; the returned `token` is the only time it exists in clear. */
  async add(name: string, role: TokenRole, tenant?: string): Promise<{ token: string; view: TokenView }> {
    if (!TOKEN_NAME.test(name)) throw new ProvError('PP_USAGE', `token name ${JSON.stringify(name)} is not valid`, { hint: 'use letters, digits, dot, dash and underscore (at most 63, starting with a letter or digit)' });
    if (!TOKEN_ROLES.includes(role)) throw new ProvError('PP_USAGE', `role ${JSON.stringify(role)} is not one of ${TOKEN_ROLES.join(', ')}`);
    if (tenant !== undefined && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(tenant)) throw new ProvError('PP_USAGE', `tenant ${JSON.stringify(tenant)} is not a tenant name`);
    if (await this.store.tokens.get(name)) throw new ProvError('PP_API_TOKEN_EXISTS', `a token named ${name} exists`, { hint: `choose another name, or revoke it first (polyprov tokens revoke ${name})` });
    // 32 random bytes = 256 bits: base64url, 43 characters.
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const t: ApiToken = { name, role, hash: hashToken(token), createdAt: this.clock() };
    if (tenant !== undefined) t.tenant = tenant;
    await this.store.tokens.put(t);
    const view = viewOf(t);
    await this.changes.record('tokens.add', name, undefined, view);
    return { token, view };
  }

  async list(): Promise<TokenView[]> {
    return (await this.store.tokens.list()).map(viewOf).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<TokenView | undefined> {
    const t = await this.store.tokens.get(name);
    return t && viewOf(t);
  }

  /** Revokes a token by name; false when there is none. */
  async revoke(name: string): Promise<boolean> {
    const t = await this.store.tokens.get(name);
    if (!t) return false;
    const removed = await this.store.tokens.remove(name);
    if (removed) await this.changes.record('tokens.revoke', name, viewOf(t), undefined);
    return removed;
  }

  /**
   * The token a bearer value names, or undefined. The lookup is by hash (a stored hash gives no
   * timing hint about the token), then compared in constant time.
   */
  async authenticate(bearer: string): Promise<ApiToken | undefined> {
    if (!TOKEN_SHAPE.test(bearer)) return undefined;
    const hash = hashToken(bearer);
    const t = await this.store.tokens.byHash(hash);
    if (!t) return undefined;
    const a = Buffer.from(t.hash, 'hex');
    const b = Buffer.from(hash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? t : undefined;
  }
}
