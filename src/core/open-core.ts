// THE composition point (issue 12 items 1 and 4): the one place that opens the store, via
// src/store/open.ts, and builds the services on it — the boot service and the admin service for
// `serve`, the admin service alone for every CLI command. Faces call these and never see the
// store, so the import-direction test needs no exception for them.
import { isProvError, ProvError } from '../errors.ts';
import { FleetService, KEY_CHECK_SETTING, POLL_MS } from '../fleet/fleet-service.ts';
import { SecretBox } from '../fleet/secret-box.ts';
import { FleetSnapshot, stateOf } from '../fleet/snapshot.ts';
import { generateKey, loadSecretKey, SECRET_KEY_ENV } from '../fleet/secret-key.ts';
import type { Logger } from '../log.ts';
import { isEmbeddedStore, type ServerOptions } from '../options.ts';
import { openStore, redactUrl } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import type { FleetSource } from './admin-fleet.ts';
import { AdminService } from './admin.ts';
import { fleetNotRead, LateFleet } from './late-fleet.ts';
import { createBootService, type CoreBootService } from './boot-service.ts';
import { osUser } from './change-record.ts';
import { checkDataDirMode, stateExists, stateMissing } from './data-dir.ts';
import { explainPhone, type Explained, type ExplainFleet } from './explain.ts';
import { compileLocks } from './override-lock.ts';
import type { ResolveOptions } from '../config/resolver.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { PhoneIdentity } from '../config/types.ts';
import { resolve } from 'node:path';

export interface AdminSession {
  admin: AdminService;
  close(): Promise<void>;
}

export interface OpenAdminOptions {
  /** Who the changes are recorded as; default the OS user running this process. */
  who?: string;
  /** A read-only command: with no state at the data directory, refuse (PP_STATE_MISSING) instead of creating an empty store. */
  readOnly?: boolean;
}

/** How often a PostgreSQL node polls the fleet generation besides its changes feed (issue 16). */
export const FEED_FALLBACK_POLL_MS = 2_000;


async function open(options: Readonly<ServerOptions>, readOnly: boolean): Promise<Store> {
  checkDataDirMode(options.data);
  if (readOnly && !stateExists(options)) throw stateMissing(options);
  return openStore(options);
}

/**
 * The managed fleet (issue 14, Secrets): the key from POLYPROV_SECRET_KEY, else the secretKeyFile
 * option, else `<data>/secret.key` (created 0600 on the embedded store; on PostgreSQL a missing key
 * is PP_FLEET_KEY_MISSING), and the fleet service on it — PP_FLEET_KEY_MISMATCH when the key
 * cannot open the store's check value.
 */
async function openFleet(store: Store, options: Readonly<ServerOptions>, log?: Logger): Promise<FleetService> {
  const { key } = loadSecretKey({ envValue: process.env[SECRET_KEY_ENV], keyFile: options.secretKeyFile, dataDir: options.data, embedded: isEmbeddedStore(options) });
  return FleetService.open(store, new SecretBox(key), { root: options.root, ...(log ? { log } : {}) });
}

/** A CLI command that never touches the fleet still runs without its key: the key's problem is thrown by fleet calls only. */
async function fleetSource(store: Store, options: Readonly<ServerOptions>): Promise<FleetSource> {
  try {
    return await openFleet(store, options);
  } catch (err) {
    if (isProvError(err) && (err.code === 'PP_FLEET_KEY_MISSING' || err.code === 'PP_FLEET_KEY_MISMATCH')) return err;
    throw err;
  }
}

/**
 * The fleet for `serve`. A node with no key on a PostgreSQL store that never had one (no check
 * value, no fleet write: a store from before issue 14) starts without the fleet, as before, and
 * says so; once a fleet exists, no key or a wrong one refuses the start.
 */
async function coreFleet(store: Store, options: Readonly<ServerOptions>, log: Logger): Promise<FleetSource> {
  try {
    return await openFleet(store, options, log);
  } catch (err) {
    if (!isProvError(err) || err.code !== 'PP_FLEET_KEY_MISSING') throw err;
    if ((await store.settings.get(KEY_CHECK_SETTING)) !== undefined || (await store.fleet.generation()) !== 0) throw err;
    log.warn({ event: 'fleet.off', code: err.code }, `managed fleet off: ${err.message}`);
    return err;
  }
}

/**
 * The admin service over the state the options name (`--data`, `--config`), for one CLI command.
 * The fleet is read, and its key read or created, on the first fleet call (AdminFleet.open()), not
 * here: `phones`, `audit`, `changes`, `accounts list` … need neither (issue 16 leftover: loading
 * 10,000 phones took about a second of every command).
 */
export async function openAdmin(options: Readonly<ServerOptions>, o: OpenAdminOptions = {}): Promise<AdminSession> {
  const store = await open(options, o.readOnly === true);
  return { admin: new AdminService({ store, options, who: o.who ?? osUser(), fleet: () => fleetSource(store, options) }), close: () => store.close() };
}

/** Runs `fn` with an admin session and closes it afterwards, whatever happens. */
export async function withAdmin<T>(options: Readonly<ServerOptions>, o: OpenAdminOptions, fn: (admin: AdminService) => Promise<T>): Promise<T> {
  const s = await openAdmin(options, o);
  try {
    return await fn(s.admin);
  } finally {
    await s.close();
  }
}

/**
 * `polyprov explain` (issue 13 item 2): the phone as the server would serve it, stored uploads
 * included when the options name existing state; otherwise the tree alone, with a note. Never
 * creates a store.
 */
export async function explainWithState(options: Readonly<ServerOptions>, tree: TreeFiles, phone: PhoneIdentity, opts: ResolveOptions): Promise<Explained> {
  if (!stateExists(options)) {
    return { ...(await explainPhone(tree, undefined, undefined, phone, opts)), note: `no stored uploads included (no polyprov state at ${resolve(options.data)})` };
  }
  const store = await open(options, true);
  try {
    // A fleet never written (no phone, setting or tenant, no key check: issue 16 leftover) is
    // explained as the empty fleet it is, with no key read or created; a store that has one is read.
    const empty = (await store.fleet.generation()) === 0 && (await store.settings.get(KEY_CHECK_SETTING)) === undefined;
    if (empty && (isEmbeddedStore(options) || haveKey(options))) return await explainPhone(tree, store, compileLocks(options.lockedParams), phone, opts, emptyFleet());
    const fleet = await fleetSource(store, options);
    if (isProvError(fleet)) {
      // No key at all (a PostgreSQL store started without one): the tree and uploads, said so; a wrong key refuses.
      if (fleet.code !== 'PP_FLEET_KEY_MISSING') throw fleet;
      return { ...(await explainPhone(tree, store, compileLocks(options.lockedParams), phone, opts)), note: `managed settings not included: ${fleet.message}` };
    }
    return await explainPhone(tree, store, compileLocks(options.lockedParams), phone, opts, { files: fleet, effective: (mac) => fleet.effective(mac) });
  } finally {
    await store.close();
  }
}

/** The view of a fleet with nothing in it, what `serve` would hold; no secret is ever opened with its throwaway key. */
function emptyFleet(): ExplainFleet {
  const snap = new FleetSnapshot(stateOf({ generation: 0, tenants: [], sites: [], groups: [], phones: [], settings: [] }), new SecretBox(generateKey()));
  return { files: snap, effective: (mac) => snap.effective(mac) };
}

/** What `polyprov store copy` reports: rows per table, columns the target has not, both stores named without passwords. */
export interface StoreCopied {
  from: string;
  to: string;
  tables: Array<{ table: string; rows: number }>;
  dropped: string[];
}

/**
 * `polyprov store copy --to postgres://…` (issue 16): the store the options name (`--data`,
 * `--config`; it must exist) copied whole, history included, into an empty PostgreSQL store
 * (created and migrated as a node would). Nodes on the target need the same secret key
 * (`<data>/secret.key` of an embedded store).
 */
export async function copyStoreTo(options: Readonly<ServerOptions>, toUrl: string): Promise<StoreCopied> {
  if (!/^postgres(?:ql)?:\/\//i.test(toUrl.trim())) throw new ProvError('PP_USAGE', `--to ${JSON.stringify(redactUrl(toUrl))} is not a postgres:// URL`, { hint: 'store copy moves a site to PostgreSQL: --to postgres://user@host:5432/db[?schema=NAME].' });
  if (toUrl.trim() === options.storeUrl.trim()) throw new ProvError('PP_USAGE', 'the target is the store the options already name');
  const { copyStore } = await import('../store/copy.ts');
  const source = await open(options, true);
  try {
    const target = await openStore({ data: options.data, storeUrl: toUrl });
    try {
      const r = await copyStore(source, target);
      return { from: isEmbeddedStore(options) ? 'sqlite' : redactUrl(options.storeUrl), to: redactUrl(toUrl), ...r };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export interface OpenedCore {
  boot: CoreBootService;
  /** The admin service acting as the OS user running the server. */
  admin: AdminService;
  /** The admin service acting as someone else: an API token's name, recorded as who. */
  adminAs(who: string): AdminService;
  /** For the tests' inspection through RunningServer; faces use `boot` and `admin`. */
  store: Store;
  /**
   * The one fleet service of this process, shared by the boot service and every admin service.
   * Absent only on a PostgreSQL store that never had a fleet key, started without one.
   */
  fleet?: FleetService;
  /** Flushes the boot service's audit and closes the store. */
  close(): Promise<void>;
}

/**
 * The store, the boot service and the admin service for `polyprov serve` (src/server.ts).
 * Issue 16: serve starts with its PostgreSQL down — the store opens without it and reconnects by
 * itself, the fleet is read once the database answers (late-fleet.ts), and until then what needs
 * the store is answered "retry later". A node with no secret key at all still needs its database
 * at start, to tell a store without a fleet from one with (coreFleet).
 */
export async function openCore(options: Readonly<ServerOptions>, log: Logger): Promise<OpenedCore> {
  checkDataDirMode(options.data);
  const store = await openStore(options, { waitForDatabase: true });
  let boot: CoreBootService;
  let fleet: FleetService | undefined;
  let source: FleetSource;
  let late: LateFleet | undefined;
  const pollMs = isEmbeddedStore(options) ? POLL_MS : FEED_FALLBACK_POLL_MS;
  try {
    try {
      // A key that cannot open the store refuses the start (serve exits with the message).
      source = await coreFleet(store, options, log);
      if (!isProvError(source)) fleet = source;
    } catch (err) {
      if (!isProvError(err) || err.code !== 'PP_STORE_UNAVAILABLE' || !haveKey(options)) throw err;
      log.warn({ event: 'store.unavailable.start', err: err.message }, 'the store is unavailable: serving the tree, answering 503 for the rest until it returns');
      late = new LateFleet(() => openFleet(store, options, log), (svc) => svc.startPolling(pollMs), log);
      source = fleetNotRead();
    }
    boot = await createBootService({ options, store, log, ...(fleet ? { fleet } : late ? { fleet: late } : {}) });
  } catch (err) {
    late?.stop();
    await store.close();
    throw err;
  }
  const current = () => fleet ?? late?.svc;
  // Issue 16: another node's fleet writes are heard through the store's changes feed at once; the
  // poll of the generation stays as the fallback (250 ms on SQLite, where another process's write
  // is not announced; every FEED_FALLBACK_POLL_MS on PostgreSQL, where the feed announces them).
  const unwatch = store.watch((topic) => {
    if (late && !late.svc) void late.tryOpen();
    else if (topic === 'fleet') void current()?.refresh().catch(() => undefined);
  });
  fleet?.startPolling(pollMs);
  const fleetNow = () => (late ? (late.svc ?? source) : source);
  const adminAs = (who: string) => new AdminService({ store, options, who, fleet: fleetNow() });
  // The OS user's admin service, built again only when the fleet it holds changes (a node started
  // without its database gets its fleet later).
  let own: { fleet: FleetSource; admin: AdminService } | undefined;
  return {
    boot,
    get admin() {
      const f = fleetNow();
      if (own?.fleet !== f) own = { fleet: f, admin: adminAs(osUser()) };
      return own.admin;
    },
    adminAs,
    store,
    get fleet() {
      return current();
    },
    close: async () => {
      unwatch();
      late?.stop();
      current()?.stop();
      await boot.close();
      await store.close();
    },
  };
}

/** Whether a secret key is given (env, secretKeyFile, or `<data>/secret.key`), without touching the store. */
function haveKey(options: Readonly<ServerOptions>): boolean {
  try {
    loadSecretKey({ envValue: process.env[SECRET_KEY_ENV], keyFile: options.secretKeyFile, dataDir: options.data, embedded: isEmbeddedStore(options) });
    return true;
  } catch {
    return false;
  }
}
