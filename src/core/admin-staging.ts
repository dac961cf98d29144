// The staging switch and enrolment resets through the admin service (issue 4, Access policy;
// issue 13 item 10). The switch lives in the store, so every running node picks it up within
// seconds; the server option `staging` is the value until someone sets it.
import type { Mac } from '../domain.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';
import { resetEnrolment, type ResetOutcome } from './enrolment.ts';

export interface StagingStatus {
  on: boolean;
  /** Whether the value comes from the store (`polyprov staging on|off`) or the server options. */
  from: 'store' | 'options';
}

/** The staging switch as every node reads it: the store's value, else the server option. */
export async function stagingSetting(store: Store, fallback: boolean): Promise<boolean> {
  return (await stagingStatus(store, fallback)).on;
}

async function stagingStatus(store: Store, fallback: boolean): Promise<StagingStatus> {
  const v = await store.settings.get('staging');
  return v === undefined ? { on: fallback, from: 'options' } : { on: v === 'on', from: 'store' };
}

export class AdminStaging {
  constructor(
    private readonly store: Store,
    private readonly fallback: boolean,
    private readonly changes: ChangeRecorder,
  ) {}

  status(): Promise<StagingStatus> {
    return stagingStatus(this.store, this.fallback);
  }

  async set(on: boolean): Promise<StagingStatus> {
    const old = await this.status();
    await this.store.settings.set('staging', on ? 'on' : 'off');
    await this.changes.record('staging.set', 'staging', { staging: old.on }, { staging: on });
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
