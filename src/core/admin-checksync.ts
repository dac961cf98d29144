// Check-sync jobs through the admin service (issue 15 "Resources": `POST /api/v1/checksync`): a
// job is kept in the store (Store.jobs) with one status per phone — pending, sent, failed, and
// returned once the phone came back for its configuration after the NOTIFY. The NOTIFYs
// themselves are sent by a face (src/api/checksync-runner.ts, with src/sip): the core does not
// speak SIP. "Came back" is read from the transfer audit — a read by that phone after the NOTIFY
// (its master file and CONFIG_FILES, white paper "Reconfiguring the Phone Remotely").
import { randomUUID } from 'node:crypto';
import type { CheckSyncJob, CheckSyncTarget, Mac } from '../domain.ts';
import type { Store } from '../store/store.ts';
import type { ChangeRecorder } from './change-record.ts';

/** Audit events read per target when looking for its return. */
const RETURN_SCAN = 50;

export class AdminChecksync {
  constructor(
    private readonly store: Store,
    private readonly changes: ChangeRecorder,
    /** The provisioning tree: the face resolves each phone's SIP line from its configuration. */
    readonly root: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** A new job, every target pending; recorded in the change record. */
  async create(request: unknown, macs: readonly Mac[], tenant?: string): Promise<CheckSyncJob> {
    const job: CheckSyncJob = {
      id: randomUUID(),
      createdAt: this.clock(),
      who: this.changes.who,
      request,
      targets: [...new Set(macs)].map((mac) => ({ mac, status: 'pending' })),
    };
    if (tenant !== undefined) job.tenant = tenant;
    await this.store.jobs.create(job);
    await this.changes.record('checksync.create', job.id, undefined, { request, targets: job.targets.length });
    return job;
  }

  get(id: string): Promise<CheckSyncJob | undefined> {
    return this.store.jobs.get(id);
  }

  /** Newest first. */
  list(limit: number): Promise<CheckSyncJob[]> {
    return this.store.jobs.list(limit);
  }

  /** Replaces these targets' status (by MAC). */
  update(id: string, targets: CheckSyncTarget[]): Promise<void> {
    return targets.length === 0 ? Promise.resolve() : this.store.jobs.updateTargets(id, targets);
  }

  /**
   * Whether the phone came back for its configuration at or after `since` (the transfer audit): a
   * read by that MAC that was served, or that found no such file — a phone without a per-phone
   * master asks for <MAC>.cfg first and gets a 404, which is still the phone asking. A read refused
   * (authentication, address, rate) is not a return: the phone did not get its configuration.
   */
  async returned(mac: Mac, since: Date): Promise<boolean> {
    const events = await this.store.audit.query({ mac, since, limit: RETURN_SCAN });
    return events.some((e) => e.op === 'read' && (e.code === undefined || e.code === 'PP_NOT_FOUND') && e.at.getTime() >= since.getTime());
  }

  /**
   * The job with every `sent` target that has since come back marked `returned` (and stored), so
   * a GET shows progress even when the runner that sent it is another node or has finished.
   */
  async refresh(id: string): Promise<CheckSyncJob | undefined> {
    const job = await this.store.jobs.get(id);
    if (!job) return undefined;
    const changed: CheckSyncTarget[] = [];
    for (const t of job.targets) {
      if (t.status !== 'sent' || !t.at) continue;
      if (await this.returned(t.mac, t.at)) {
        const r: CheckSyncTarget = { mac: t.mac, status: 'returned', at: t.at, ...(t.detail !== undefined ? { detail: t.detail } : {}) };
        changed.push(r);
        Object.assign(t, r);
      }
    }
    await this.update(id, changed);
    return job;
  }
}
