// Enrolment: a factory-fresh phone that authenticates with the staging account (PlcmSpIp,
// only while staging is on) is served, in its <MAC>-phone.cfg, a unique device.prov.user and
// device.prov.password with the device.set flags (white paper "device.set"; facts §2.4). The
// per-phone override file is the phone's highest-precedence file, so the credentials win over
// anything the site files say. The account stays pending until the phone first uses it; from
// then on only that account reaches the phone's files.
import { randomBytes } from 'node:crypto';
import { parseConfigFile } from '../config/config-file.ts';
import { writeConfigFile } from '../config/write-xml.ts';
import type { Mac } from '../config/types.ts';
import { makeAccount } from './digest.ts';
import type { Account, Store } from '../store/store.ts';
import type { Authenticator, Principal } from './authenticate.ts';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A password phones can type and store: 20 characters of an unambiguous alphabet (~115 bits). */
export function generatePassword(length = 20): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 256 - (256 % ALPHABET.length)) out += ALPHABET[b % ALPHABET.length];
  }
  return out.length === length ? out : generatePassword(length);
}

export function phoneUser(mac: Mac): string {
  return `phone-${mac}`;
}

export class Enrolment {
  private readonly bound = new Map<Mac, { account: Account | undefined; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly realm: string,
    private readonly auth: Authenticator,
    private readonly enabled = true,
  ) {}

  async boundAccount(mac: Mac): Promise<Account | undefined> {
    const hit = this.bound.get(mac);
    const now = Date.now();
    if (hit && now - hit.at < 2000) return hit.account;
    const account = await this.store.accounts.forPhone(mac);
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
   * plus fresh credentials. Each render issues a new password and replaces the pending
   * account, so only the last file the phone read matches.
   */
  async render(mac: Mac, storedOverride: Buffer | undefined, file: string): Promise<Buffer> {
    const password = generatePassword();
    const account = makeAccount('phone', phoneUser(mac), password, this.realm, mac);
    account.pending = true;
    await this.store.accounts.put(account);
    this.bound.delete(mac);
    this.auth.forget(account.user);
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
