// Enrolment: a factory-fresh phone that authenticates with the staging account (PlcmSpIp,
// only while staging is on) is served, in its <MAC>-phone.cfg, a unique device.prov.user and
// device.prov.password with the device.set flags (white paper "device.set"; facts §2.4). The
// per-phone override file is the phone's highest-precedence file, so the credentials win over
// anything the site files say. The account stays pending until the phone first uses it; from
// then on only that account reaches the phone's files.
//
// Issue 13 item 10: the password is derived from a secret kept in the store and the MAC (plus
// a reset generation), so every read of a pending phone's enrolment file issues the SAME
// credentials — a second read (a retry, a reboot before the phone saved them) no longer locks
// the real phone out — and nothing stored recovers the password without the secret. The
// administrator resets a pending phone with `polyprov staging reset MAC` (a new generation).
import { randomBytes } from 'node:crypto';
import { parseConfigFile } from '../config/config-file.ts';
import { writeConfigFile } from '../config/write-xml.ts';
import { DEFAULT_TENANT, type Account, type Mac } from '../domain.ts';
import { isProvError } from '../errors.ts';
import { makeAccount } from './digest.ts';
import type { Store } from '../store/store.ts';
import type { Authenticator, Principal } from './authenticate.ts';
import { derivePassword } from './passwords.ts';

export function phoneUser(mac: Mac): string {
  return `phone-${mac}`;
}

const SECRET_SETTING = 'enrol.secret';
const generationSetting = (mac: Mac) => `enrol.generation.${mac}`;

/** The store's enrolment secret, created on first use. Two nodes racing both end with the stored one. */
async function enrolmentSecret(store: Store): Promise<Buffer> {
  let hex = await store.settings.get(SECRET_SETTING);
  if (!hex) {
    await store.settings.set(SECRET_SETTING, randomBytes(32).toString('hex'));
    hex = (await store.settings.get(SECRET_SETTING))!;
  }
  return Buffer.from(hex, 'hex');
}

/** The enrolment password of a phone: the same on every call until the phone is reset. */
export async function enrolmentPassword(store: Store, mac: Mac): Promise<string> {
  const generation = (await store.settings.get(generationSetting(mac))) ?? '0';
  return derivePassword(await enrolmentSecret(store), `enrol:${mac}:${generation}`);
}

export type ResetOutcome =
  | { status: 'reset'; removed?: Account }
  /** The phone completed enrolment (its account is in use); reset only with `force`. */
  | { status: 'enrolled'; account: Account };

/**
 * Forgets a phone's enrolment: its issued account is removed and the next staging read issues
 * new credentials (a new generation of the derivation).
 */
export async function resetEnrolment(store: Store, mac: Mac, force = false): Promise<ResetOutcome> {
  const account = await store.accounts.get(phoneUser(mac));
  if (account && !account.pending && !force) return { status: 'enrolled', account };
  const generation = Number((await store.settings.get(generationSetting(mac))) ?? '0');
  await store.settings.set(generationSetting(mac), String((Number.isFinite(generation) ? generation : 0) + 1));
  if (account) await store.accounts.remove(account.user);
  return account ? { status: 'reset', removed: account } : { status: 'reset' };
}

export class Enrolment {
  private readonly bound = new Map<Mac, { account: Account | undefined; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly realm: string,
    private readonly auth: Authenticator,
    private readonly enabled = true,
  ) {}

  /** Drops what is known of phones' own accounts (an accounts change heard through the store's feed). */
  forgetBound(): void {
    this.bound.clear();
  }

  /**
   * The phone's own account, if it has one. Answered at once (no promise) from what was read in the
   * last two seconds: the serving path asks this for every per-phone file (issue 16, Speed).
   */
  boundAccount(mac: Mac): Account | undefined | Promise<Account | undefined> {
    const hit = this.bound.get(mac);
    if (hit && Date.now() - hit.at < 2000) return hit.account;
    return this.readBound(mac, hit?.account, hit !== undefined);
  }

  private async readBound(mac: Mac, last: Account | undefined, known: boolean): Promise<Account | undefined> {
    const now = Date.now();
    let account: Account | undefined;
    try {
      account = await this.store.accounts.forPhone(mac);
    } catch (err) {
      // Issue 16: without its database a node goes by what it last read (the feed drops it on change).
      if (known && isProvError(err) && err.code === 'PP_STORE_UNAVAILABLE') return last;
      throw err;
    }
    if (this.bound.size > 100_000) this.bound.clear();
    this.bound.set(mac, { account, at: now });
    return account;
  }

  /** The phone authenticated with its issued account: enrolment is complete. */
  async confirm(account: Account): Promise<void> {
    await this.store.accounts.put({ ...account, pending: false });
    this.auth.forget(account.user);
    if (account.mac) this.bound.delete(account.mac);
  }

  /** Whether this request should receive enrolment credentials in its <MAC>-phone.cfg. */
  async applies(principal: Principal, mac: Mac | undefined): Promise<boolean> {
    if (!this.enabled || !mac || principal.kind !== 'account' || principal.account.kind !== 'staging') return false;
    const bound = await this.boundAccount(mac);
    return !bound || bound.pending === true;
  }

  /**
   * The <MAC>-phone.cfg served during enrolment: the stored override's parameters (if any)
   * plus the phone's derived credentials. The pending account is written only when it is not
   * already the one these credentials match. The account belongs to the tenant the phone enrolled
   * under (issue 14, Tenants: the prefix of its staging read).
   */
  async render(mac: Mac, storedOverride: Buffer | undefined, file: string, tenant: string = DEFAULT_TENANT): Promise<Buffer> {
    const password = await enrolmentPassword(this.store, mac);
    const account = makeAccount('phone', phoneUser(mac), password, this.realm, mac);
    account.pending = true;
    if (tenant !== DEFAULT_TENANT) account.tenant = tenant;
    const existing = await this.store.accounts.get(account.user);
    if (!existing || !existing.pending || existing.realm !== this.realm || existing.ha1Sha256 !== account.ha1Sha256 || existing.mac !== mac || existing.tenant !== account.tenant) {
      await this.store.accounts.put(account);
      this.bound.delete(mac);
      this.auth.forget(account.user);
    }
    const params: Array<{ name: string; value: string }> = [];
    if (storedOverride) {
      try {
        const cfg = parseConfigFile(storedOverride, file);
        if (cfg.kind === 'xml') for (const p of cfg.params) if (!p.name.startsWith('device.prov.user') && !p.name.startsWith('device.prov.password') && p.name !== 'device.set') params.push({ name: p.name, value: p.value });
      } catch {
        // an unreadable override contributes nothing
      }
    }
    params.push(
      { name: 'device.set', value: '1' },
      { name: 'device.prov.user', value: account.user },
      { name: 'device.prov.user.set', value: '1' },
      { name: 'device.prov.password', value: password },
      { name: 'device.prov.password.set', value: '1' },
    );
    return Buffer.from(writeConfigFile(params), 'utf8');
  }
}
