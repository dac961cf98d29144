// The staging switch and enrolment resets through the admin service (issue 4, Access policy;
// issue 13 item 10). The switch lives in the store, so every running node picks it up within
// seconds; the server option `staging` is the value until someone sets it. Staging is per tenant
// (issue 14, Tenants): the store setting `staging` is the default tenant's, `staging.<tenant>`
// another's; a tenant never set follows the server option too.
import { DEFAULT_TENANT, FLEET_NAME, type Mac } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';
import { resetEnrolment, type ResetOutcome } from './enrolment.ts';

export interface StagingStatus {
  on: boolean;
  /** Whether the value comes from the store (`polyprov staging on|off`) or the server options. */
  from: 'store' | 'options';
}

/** The store setting of a tenant's staging switch: `staging` for the default tenant, `staging.<tenant>` for another. */
export function stagingKey(tenant: string = DEFAULT_TENANT): string {
  if (tenant === DEFAULT_TENANT) return 'staging';
  if (!FLEET_NAME.test(tenant)) throw new ProvError('PP_USAGE', `${JSON.stringify(tenant)} is not a tenant name`, { hint: 'Tenant names are lower-case letters, digits, "_" and "-".' });
  return `staging.${tenant}`;
}

/**
 * The store setting that lists the tenants (other than the default) whose staging is on, comma
 * separated: the boot service reads it to know which tenants' switches to watch, since FTP's login
 * (before any path names a tenant) accepts the factory account when staging is on for any tenant.
 */
export const STAGING_TENANTS = 'staging.tenants';

/** The tenants `staging.tenants` lists. */
export async function stagingTenants(store: Store): Promise<string[]> {
  return ((await store.settings.get(STAGING_TENANTS)) ?? '').split(',').filter((t) => FLEET_NAME.test(t));
}

/** The staging switch as every node reads it: the store's value, else the server option. */
export async function stagingSetting(store: Store, fallback: boolean, tenant?: string): Promise<boolean> {
  return (await stagingStatus(store, fallback, tenant)).on;
}

async function stagingStatus(store: Store, fallback: boolean, tenant?: string): Promise<StagingStatus> {
  const v = await store.settings.get(stagingKey(tenant));
  return v === undefined ? { on: fallback, from: 'options' } : { on: v === 'on', from: 'store' };
}

export class AdminStaging {
  constructor(
    private readonly store: Store,
    private readonly fallback: boolean,
    private readonly changes: ChangeRecorder,
  ) {}

  /** The default tenant's switch, or `tenant`'s. */
  status(tenant?: string): Promise<StagingStatus> {
    return stagingStatus(this.store, this.fallback, tenant);
  }

  async set(on: boolean, tenant?: string): Promise<StagingStatus> {
    const old = await this.status(tenant);
    const key = stagingKey(tenant);
    await this.store.settings.set(key, on ? 'on' : 'off');
    if (tenant !== undefined && tenant !== DEFAULT_TENANT) {
      const listed = new Set(await stagingTenants(this.store));
      if (on) listed.add(tenant);
      else listed.delete(tenant);
      await this.store.settings.set(STAGING_TENANTS, [...listed].sort().join(','));
    }
    await this.changes.record('staging.set', key, { staging: old.on }, { staging: on });
    return { on, from: 'store' };
  }

  /**
   * Resets a pending phone: its issued credentials are withdrawn and the next staging read issues
   * new ones. A phone that already uses its credentials is reset only with `force`.
   */
  async reset(mac: Mac, force = false): Promise<ResetOutcome> {
    const r = await resetEnrolment(this.store, mac, force);
    if (r.status === 'reset') {
      await this.changes.record('staging.reset', mac, r.removed ? { account: r.removed.user, pending: r.removed.pending === true } : undefined, { enrolment: 'new credentials on the next staging read' });
    }
    return r;
  }
}
