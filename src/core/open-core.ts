// THE composition point (issue 12 items 1 and 4): the one place that opens the store, via
// src/store/open.ts, and builds the services on it — the boot service and the admin service for
// `serve`, the admin service alone for every CLI command. Faces call these and never see the
// store, so the import-direction test needs no exception for them.
import type { Logger } from '../log.ts';
import type { ServerOptions } from '../options.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { AdminService } from './admin.ts';
import { createBootService, type CoreBootService } from './boot-service.ts';
import { osUser } from './change-record.ts';
import { checkDataDirMode, stateExists, stateMissing } from './data-dir.ts';
import { explainPhone, type Explained } from './explain.ts';
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

async function open(options: Readonly<ServerOptions>, readOnly: boolean): Promise<Store> {
  checkDataDirMode(options.data);
  if (readOnly && !stateExists(options)) throw stateMissing(options);
  return openStore(options);
}

/** The admin service over the state the options name (`--data`, `--config`), for one CLI command. */
export async function openAdmin(options: Readonly<ServerOptions>, o: OpenAdminOptions = {}): Promise<AdminSession> {
  const store = await open(options, o.readOnly === true);
  return { admin: new AdminService({ store, options, who: o.who ?? osUser() }), close: () => store.close() };
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
    return await explainPhone(tree, store, compileLocks(options.lockedParams), phone, opts);
  } finally {
    await store.close();
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
  /** Flushes the boot service's audit and closes the store. */
  close(): Promise<void>;
}

/** The store, the boot service and the admin service for `polyprov serve` (src/server.ts). */
export async function openCore(options: Readonly<ServerOptions>, log: Logger): Promise<OpenedCore> {
  const store = await open(options, false);
  let boot: CoreBootService;
  try {
    boot = await createBootService({ options, store, log });
  } catch (err) {
    await store.close();
    throw err;
  }
  const adminAs = (who: string) => new AdminService({ store, options, who });
  return {
    boot,
    admin: adminAs(osUser()),
    adminAs,
    store,
    close: async () => {
      await boot.close();
      await store.close();
    },
  };
}
