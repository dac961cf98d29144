// Provisioning accounts through the admin service (issue 4, Access policy; issue 12 item 4):
// add, list, remove, set a password. Only HA1 per realm is stored (RFC 7616 §3.4.2); every
// change goes to the change record with the password and hashes masked. An account belongs to a
// tenant (issue 14, Tenants; absent = the default tenant): the name is checked here, the tenant's
// existence in the fleet by the face that offers `--tenant` (the admin service holds no fleet).
import { DEFAULT_TENANT, FLEET_NAME, type Account, type AccountKind, type Mac } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';
import { makeAccount } from './digest.ts';

/** What is shown of an account, in a listing or the change record: never a hash. */
export interface AccountView {
  user: string;
  kind: AccountKind;
  realm: string;
  phone?: Mac;
  /** Absent for the default tenant. */
  tenant?: string;
  createdAt: string;
  pending: boolean;
  /** An account hashed for another realm cannot authenticate until its password is set again. */
  realmMatches: boolean;
}

export function accountView(a: Account, realm: string): AccountView {
  return {
    user: a.user,
    kind: a.kind,
    realm: a.realm,
    ...(a.mac ? { phone: a.mac } : {}),
    ...(a.tenant ? { tenant: a.tenant } : {}),
    createdAt: a.createdAt.toISOString(),
    pending: a.pending === true,
    realmMatches: a.realm === realm,
  };
}

/** RFC 7617 §2 (Basic: no ":" in the user-id) and RFC 7616 §3.4.2 (the HA1 input is user:realm:password). */
export function checkAccountName(user: string): void {
  if (user === '' || user.includes(':') || /[\u0000-\u001f\u007f]/.test(user)) {
    throw new ProvError('PP_USAGE', `account name ${JSON.stringify(user)} is not allowed`, { hint: 'Use a name without ":" or control characters.' });
  }
}

export type AddOutcome = { status: 'exists' } | { status: 'added'; account: Account; /** Another account this phone was already bound to. */ alsoBound?: string };

export class AdminAccounts {
  constructor(
    private readonly store: Store,
    private readonly realm: string,
    private readonly changes: ChangeRecorder,
  ) {}

  async add(user: string, kind: AccountKind, password: string, mac?: Mac, tenant?: string): Promise<AddOutcome> {
    checkAccountName(user);
    if (tenant !== undefined && !FLEET_NAME.test(tenant)) {
      throw new ProvError('PP_USAGE', `${JSON.stringify(tenant)} is not a tenant name`, { hint: 'Tenant names are lower-case letters, digits, "_" and "-", starting with a letter or digit.' });
    }
    if (kind === 'phone' && !mac) throw new ProvError('PP_USAGE', 'a phone account needs a phone (--phone MAC)');
    if (kind !== 'phone' && mac) throw new ProvError('PP_USAGE', `only a phone account is bound to a phone; this one is kind ${kind}`);
    if (await this.store.accounts.get(user)) return { status: 'exists' };
    const other = mac ? await this.store.accounts.forPhone(mac) : undefined;
    const account = makeAccount(kind, user, password, this.realm, mac);
    if (tenant !== undefined && tenant !== DEFAULT_TENANT) account.tenant = tenant;
    await this.store.accounts.put(account);
    await this.changes.record('accounts.add', user, undefined, { ...accountView(account, this.realm), password });
    return other ? { status: 'added', account, alsoBound: other.user } : { status: 'added', account };
  }

  list(): Promise<Account[]> {
    return this.store.accounts.list();
  }

  /** The removed account, or undefined when there was none. */
  async remove(user: string): Promise<Account | undefined> {
    const old = await this.store.accounts.get(user);
    if (!old || !(await this.store.accounts.remove(user))) return undefined;
    await this.changes.record('accounts.remove', user, accountView(old, this.realm));
    return old;
  }

  /** A new password, hashed for the current realm; undefined when there is no such account. */
  async passwd(user: string, password: string): Promise<Account | undefined> {
    const old = await this.store.accounts.get(user);
    if (!old) return undefined;
    const account: Account = { ...makeAccount(old.kind, user, password, this.realm, old.mac), createdAt: old.createdAt };
    if (old.pending) account.pending = true;
    if (old.tenant) account.tenant = old.tenant;
    await this.store.accounts.put(account);
    await this.changes.record('accounts.passwd', user, accountView(old, this.realm), { ...accountView(account, this.realm), password });
    return account;
  }
}
