// An in-memory Store (src/store/store.ts) for the core's unit tests: the same contract as the
// SQLite and PostgreSQL backends, checked by the same conformance suite (test/store/memory.test.ts).
// The inventory fold, the upload receiving half (memory, then a spill file under tmpDir) and the
// append/rolling-log rule are the backends' own shared code (fold-sighting.ts, upload-temp.ts),
// so only the bookkeeping that SQL does lives here. Every value handed out is a copy, as a
// database row would be: a caller changing it changes nothing stored.
import { createHash } from 'node:crypto';
import type { Mac } from '../../src/domain.ts';
import { ProvError } from '../../src/errors.ts';
import { BOOTS_KEPT_PER_PHONE, bootVersion, foldSighting, macKey, type PhoneState } from '../../src/store/fold-sighting.ts';
import type { Account, AuditEvent, BootRecord, ChangeRecord, Phone, Sighting, Store, StoredFile, UploadKey } from '../../src/store/store.ts';
import { BatchPrune } from '../../src/store/audit-batches.ts';
import { TempUpload, TempUploadSink, cleanStaleTemps, versionContent } from '../../src/store/upload-temp.ts';
import { MemoryFleet } from './memory-fleet.ts';
import { emitOwnWrites, Watchers } from '../../src/store/change-feed.ts';

/** Same bound as the SQL backends: a query never pulls more than this many rows. */
const MAX_QUERY_ROWS = 100_000;

/** A stored version: the domain's StoredFile with its bytes held in memory instead of a read(). */
interface Version extends Omit<StoredFile, 'read' | 'locked'> {
  locked: boolean;
  content: Buffer;
}

interface Boot extends BootRecord {
  seq: number;
}

function limitOf(n: number | undefined, max: number): number {
  if (n === undefined || !Number.isFinite(n)) return max;
  return Math.max(0, Math.min(Math.floor(n), max));
}

const clonePhone = (p: Phone): Phone => ({ ...p });
const cloneAccount = (a: Account): Account => ({ ...a });

export class MemoryStore implements Store {
  #open = false;
  #phones = new Map<string, PhoneState>();
  #boots = new Map<string, Boot[]>();
  /** `<mac>\0<kind>\0<path>` → versions, oldest first (issue 14 Tenants: the path carries the tenant's prefix). */
  #versions = new Map<string, Version[]>();
  #audit: Array<AuditEvent & { seq: number }> = [];
  /** The audit journal's batch ids applied (issue 16), with when: SQL's audit_batches. */
  #batches = new Map<string, number>();
  #prune = new BatchPrune();
  #accounts = new Map<string, Account>();
  #settings = new Map<string, string>();
  #seq = 0;

  /** `tmpDir`: where large uploads spill before commit (`<data>/tmp` for the real backends). */
  /** Issue 16: watchers hear this store's own writes, as SQLite's do. */
  readonly watch: Store['watch'];

  constructor(readonly tmpDir: string) {
    this.watch = emitOwnWrites(this, new Watchers());
  }

  async init(): Promise<void> {
    if (this.#open) return;
    cleanStaleTemps(this.tmpDir);
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new ProvError('PP_INTERNAL', 'store used before init() or after close()');
  }

  // ---- phones -------------------------------------------------------------------------------

  readonly phones: Store['phones'] = {
    recordSighting: async (s) => this.#record([s]),
    recordSightings: async (list) => this.#record(list),
    get: async (mac) => {
      this.#check();
      const st = this.#phones.get(macKey(mac));
      return st && clonePhone(st.phone);
    },
    list: async (q = {}) => {
      this.#check();
      const prefix = q.macPrefix ? macKey(q.macPrefix) : '';
      return [...this.#phones.keys()]
        .sort()
        .filter((mac) => mac.startsWith(prefix))
        .map((mac) => this.#phones.get(mac)!.phone)
        .filter((p) => !q.seenSince || p.lastSeen.getTime() >= q.seenSince.getTime())
        .slice(0, limitOf(q.limit, MAX_QUERY_ROWS))
        .map(clonePhone);
    },
    setOverrideLocked: async (mac, locked) => {
      this.#check();
      const st = this.#phones.get(macKey(mac));
      if (st) st.phone = { ...st.phone, overrideLocked: locked };
    },
    boots: async (mac, limit) => {
      this.#check();
      const list = this.#boots.get(macKey(mac)) ?? [];
      return [...list]
        .sort((a, b) => b.at.getTime() - a.at.getTime() || b.seq - a.seq)
        .slice(0, limitOf(limit, BOOTS_KEPT_PER_PHONE))
        .map(({ seq: _seq, ...b }) => ({ ...b }));
    },
  };

  #record(list: Sighting[]): void {
    this.#check();
    for (const s of list) {
      const mac = macKey(s.mac);
      this.#phones.set(mac, foldSighting(this.#phones.get(mac), { ...s, mac: mac as Mac }));
      if (!s.bootStart) continue;
      const boots = this.#boots.get(mac) ?? [];
      const b: Boot = { at: s.at, source: s.source, address: s.address, seq: ++this.#seq };
      if (s.stage) b.stage = s.stage;
      const v = bootVersion(s);
      if (v !== undefined) b.version = v;
      if (s.userAgent !== undefined) b.userAgent = s.userAgent;
      boots.push(b);
      // Keep the newest BOOTS_KEPT_PER_PHONE, as the SQL backends prune after each batch.
      boots.sort((x, y) => y.at.getTime() - x.at.getTime() || y.seq - x.seq);
      boots.length = Math.min(boots.length, BOOTS_KEPT_PER_PHONE);
      this.#boots.set(mac, boots);
    }
  }

  // ---- uploads ------------------------------------------------------------------------------

  #versionsOf(key: { mac: string; kind: string; path: string }): Version[] {
    const k = `${macKey(key.mac)}\0${key.kind}\0${key.path}`;
    let v = this.#versions.get(k);
    if (!v) {
      v = [];
      this.#versions.set(k, v);
    }
    return v;
  }

  #stored(v: Version): StoredFile {
    const versions = this.#versionsOf(v.key);
    return {
      key: { ...v.key },
      version: v.version,
      size: v.size,
      sha256: v.sha256,
      storedAt: v.storedAt,
      address: v.address,
      locked: v.locked,
      ...(v.treeVersion !== undefined ? { treeVersion: v.treeVersion } : {}),
      read: async () => {
        if (!versions.includes(v)) throw new ProvError('PP_NOT_FOUND', `version ${v.version} of ${v.key.path} was pruned or cleared`);
        return Buffer.from(v.content);
      },
    };
  }

  readonly uploads: Store['uploads'] = {
    begin: async (key, opts) => {
      this.#check();
      const temp = await TempUpload.create(this.tmpDir, key, opts);
      return new TempUploadSink(temp, (t, received, locked) => this.#commit(t, received, locked));
    },
    current: async (key) => {
      this.#check();
      const v = this.#versionsOf(key).at(-1);
      return v && this.#stored(v);
    },
    history: async (key, n) => {
      this.#check();
      return [...this.#versionsOf(key)].reverse().slice(0, limitOf(n, 1000)).map((v) => this.#stored(v));
    },
    listForPhone: async (mac) => {
      this.#check();
      const m = macKey(mac);
      return [...this.#versions.entries()]
        .filter(([k, v]) => k.startsWith(`${m}\0`) && v.length > 0)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, v]) => this.#stored(v.at(-1)!));
    },
    clear: async (key) => {
      this.#check();
      this.#versionsOf(key).length = 0;
    },
  };

  /** One synchronous step, like the SQL backends' commit transaction: nothing interleaves with it. */
  #commit(temp: TempUpload, received: Buffer, locked: boolean): StoredFile {
    this.#check();
    const { key, opts } = temp;
    const versions = this.#versionsOf(key);
    const cur = opts.mode === 'append' ? versions.at(-1)?.content : undefined;
    const content = Buffer.from(versionContent(opts, received, cur));
    const v: Version = {
      key: { mac: macKey(key.mac) as Mac, kind: key.kind, path: key.path },
      version: (versions.at(-1)?.version ?? 0) + 1,
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      storedAt: new Date(),
      address: opts.address,
      locked,
      ...(opts.treeVersion !== undefined ? { treeVersion: opts.treeVersion } : {}),
      content,
    };
    versions.push(v);
    const keep = Math.max(1, opts.keepVersions);
    if (versions.length > keep) versions.splice(0, versions.length - keep);
    return this.#stored(v);
  }

  // ---- audit --------------------------------------------------------------------------------

  readonly audit: Store['audit'] = {
    append: async (events) => this.#append(events),
    record: async (events, sightings, ids) => {
      // Synchronous, so as atomic as the other backends' one transaction.
      this.#check();
      if (ids?.some((id) => this.#batches.has(id))) return false;
      const now = Date.now();
      for (const id of ids ?? []) this.#batches.set(id, now);
      const cutoff = this.#prune.due(now);
      if (cutoff !== undefined) for (const [id, at] of this.#batches) if (at < cutoff) this.#batches.delete(id);
      this.#record(sightings);
      this.#append(events);
      return true;
    },
    query: async (q) => {
      this.#check();
      const mac = q.mac ? macKey(q.mac) : undefined;
      return this.#audit
        .filter((e) => (!mac || e.mac === mac) && (!q.since || e.at >= q.since) && (!q.until || e.at < q.until))
        .sort((a, b) => b.at.getTime() - a.at.getTime() || b.seq - a.seq)
        .slice(0, limitOf(q.limit ?? 100, MAX_QUERY_ROWS))
        .map(({ seq: _seq, ...e }) => ({ ...e, at: new Date(e.at.getTime()) }));
    },
  };

  #append(events: AuditEvent[]): void {
    this.#check();
    for (const e of events) {
      const copy: AuditEvent & { seq: number } = { ...e, seq: ++this.#seq };
      if (e.mac) copy.mac = macKey(e.mac) as Mac;
      for (const k of ['mac', 'user', 'code'] as const) if (copy[k] === undefined) delete copy[k];
      this.#audit.push(copy);
    }
  }

  // ---- accounts and settings ----------------------------------------------------------------

  readonly accounts: Store['accounts'] = {
    get: async (user) => {
      this.#check();
      const a = this.#accounts.get(user);
      return a && cloneAccount(a);
    },
    put: async (a) => {
      this.#check();
      const copy = cloneAccount(a);
      if (copy.mac) copy.mac = macKey(copy.mac) as Mac;
      else delete copy.mac;
      if (!copy.pending) delete copy.pending;
      if (copy.tenant === undefined) delete copy.tenant;
      this.#accounts.set(a.user, copy);
    },
    remove: async (user) => {
      this.#check();
      return this.#accounts.delete(user);
    },
    list: async () => {
      this.#check();
      return [...this.#accounts.keys()].sort().map((u) => cloneAccount(this.#accounts.get(u)!));
    },
    forPhone: async (mac) => {
      this.#check();
      const m = macKey(mac);
      // As the SQL backends: a confirmed account before a pending one, then the newest.
      const best = [...this.#accounts.values()]
        .filter((a) => a.mac === m)
        .sort((a, b) => Number(!!a.pending) - Number(!!b.pending) || b.createdAt.getTime() - a.createdAt.getTime())[0];
      return best && cloneAccount(best);
    },
  };

  // The change record (issue 12 item 4): appended in order, read newest first (a stable sort keeps
  // the later of two same-time changes first, as the SQL backends' id order does).
  readonly #changes: ChangeRecord[] = [];
  readonly changes: Store['changes'] = {
    append: async (c) => {
      this.#check();
      this.#changes.push(structuredClone(c));
    },
    appendMany: async (cs) => {
      this.#check();
      for (const c of cs) this.#changes.push(structuredClone(c));
    },
    query: async (q) => {
      this.#check();
      const list = this.#changes
        .filter((c) => (!q.since || c.at.getTime() >= q.since.getTime()) && (q.target === undefined || c.target === q.target))
        .reverse()
        .sort((a, b) => b.at.getTime() - a.at.getTime());
      return structuredClone(list.slice(0, Math.max(0, q.limit ?? 100)));
    },
  };

  // The fleet, API tokens and check-sync jobs (issues 14, 15): test/support/memory-fleet.ts.
  readonly #fleet = new MemoryFleet(() => this.#check());
  readonly fleet: Store['fleet'] = this.#fleet.fleet;
  readonly tokens: Store['tokens'] = this.#fleet.tokens;
  readonly jobs: Store['jobs'] = this.#fleet.jobs;
  readonly settings: Store['settings'] = {
    get: async (name) => {
      this.#check();
      return this.#settings.get(name);
    },
    set: async (name, value) => {
      this.#check();
      if (value === undefined) this.#settings.delete(name);
      else this.#settings.set(name, value);
    },
  };
}

/** A fresh, initialised memory store whose spill files go under `tmpDir`. */
export async function openMemoryStore(tmpDir: string): Promise<MemoryStore> {
  const s = new MemoryStore(tmpDir);
  await s.init();
  return s;
}
