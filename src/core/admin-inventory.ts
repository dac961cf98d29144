// Reads of the inventory, the transfer audit and the phones' uploaded logs through the admin
// service (issue 4, Inventory and audit; issue 13 item 22), and the one write a face makes to
// the inventory: a sighting (the DHCP INFORM responder, SIP). Faces get domain types only.
// A phone's timeline and logs take an optional tenant (issue 15, tenant-bound tokens): given
// one, only the requests and logs under that tenant's paths (tenant-paths.ts) are shown.
import type { AuditEvent, AuditQuery, BootRecord, Mac, Phone, PhoneQuery, Sighting, StoredFile } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { tenantHoldsPath, type IsTenant } from './tenant-paths.ts';

/** The requests one boot made: audit events from its start up to the next boot's. */
export interface BootTimeline extends BootRecord {
  requests: AuditEvent[];
}

export type LogKind = 'boot' | 'app';
const LOG_UPLOAD = { boot: 'log-boot', app: 'log-app' } as const;

/** Bounds the audit read for one phone's timeline. */
const MAX_EVENTS = 20_000;

export class AdminInventory {
  constructor(
    private readonly store: Store,
    /** The fleet's tenants with a prefix (none without a fleet). */
    private readonly isTenant: IsTenant = () => false,
  ) {}

  phones(q: PhoneQuery = {}): Promise<Phone[]> {
    return this.store.phones.list(q);
  }

  phone(mac: Mac): Promise<Phone | undefined> {
    return this.store.phones.get(mac);
  }

  audit(q: AuditQuery): Promise<AuditEvent[]> {
    return this.store.audit.query(q);
  }

  /** Whether the phone was seen (inventory or audit) after `since`: a check-sync's confirmation. */
  async seenSince(mac: Mac, since: Date): Promise<boolean> {
    const p = await this.store.phones.get(mac);
    if (p && p.lastSeen.getTime() > since.getTime()) return true;
    return (await this.store.audit.query({ mac, since, limit: 1 })).length > 0;
  }

  recordSighting(s: Sighting): Promise<void> {
    return this.store.phones.recordSighting(s);
  }

  /**
   * The phone's last `boots` boots, newest first, each with its requests (SEED-AG step 5: the
   * bootROM/Updater and the application both read the master file, so a reboot shows as two).
   * Given a tenant, only the requests under its paths, and only the boots with one of those or
   * with no request at all (a boot whose requests were all another tenant's is that tenant's).
   */
  async bootTimeline(mac: Mac, boots: number, tenant?: string): Promise<BootTimeline[]> {
    const starts = await this.store.phones.boots(mac, boots); // newest first
    if (starts.length === 0) return [];
    const oldest = starts[starts.length - 1]!.at;
    const events = (await this.store.audit.query({ mac, since: oldest, limit: MAX_EVENTS })).reverse(); // oldest first
    const out: BootTimeline[] = starts.map((b) => ({ ...b, requests: [] }));
    // Walk events oldest first and boots oldest first; events share the boot whose start precedes them.
    let bi = out.length - 1;
    for (const e of events) {
      while (bi > 0 && e.at.getTime() >= out[bi - 1]!.at.getTime()) bi--;
      out[bi]!.requests.push(e);
    }
    if (tenant === undefined) return out;
    const shown: BootTimeline[] = [];
    for (const b of out) {
      const requests = b.requests.filter((e) => tenantHoldsPath(tenant, e.path, this.isTenant));
      if (requests.length > 0 || b.requests.length === 0) shown.push({ ...b, requests });
    }
    return shown;
  }

  /**
   * The phone's uploaded logs (`<MAC>-boot.log`, `<MAC>-app.log`, LOG_FILE_DIRECTORY): the
   * current version of each, a rolling log per phone kept in the store, never in the tree. Given
   * a tenant, only the logs under its paths.
   */
  async logs(mac: Mac, kind?: LogKind, tenant?: string): Promise<Array<{ kind: LogKind; file: StoredFile }>> {
    const out: Array<{ kind: LogKind; file: StoredFile }> = [];
    for (const f of await this.store.uploads.listForPhone(mac)) {
      if (!tenantHoldsPath(tenant, f.key.path, this.isTenant)) continue;
      for (const k of ['boot', 'app'] as const) if (f.key.kind === LOG_UPLOAD[k] && (kind === undefined || kind === k)) out.push({ kind: k, file: f });
    }
    return out.sort((a, b) => a.kind.localeCompare(b.kind));
  }
}
