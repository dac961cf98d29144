// `polyprov explain` as a core service (issue 13 item 2): what one phone ends up with, read the
// way the boot server serves it — the tree with the phone's stored uploads in front (the one
// overlay, live-tree.ts), locked parameters stripped from overrides, and for each stored upload
// whether it or the tree file of the same name is served, and why (issue 13 item 3). Without a
// store it is the tree alone, and says so. With the managed fleet (issue 14) the tree is the
// phone's tenant's view (tenant-tree.ts: `managed/<MAC>.cfg` is the fleet's rendered file, the
// default master stands in where the tree has none), and each parameter the managed file sets
// carries the scope that set it and the managed values it shadowed.
import type { ManagedExplained, StoredUploadView } from '../config/explain-json.ts';
import { isMasterName, parentDir, uploadKeyOf } from '../config/phone-layout.ts';
import { resolvePhone, type Resolution, type ResolveOptions } from '../config/resolver.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { PhoneIdentity } from '../config/types.ts';
import { DEFAULT_TENANT, type Mac, type UploadKind } from '../domain.ts';
import type { EffectiveSetting, ManagedFiles } from '../fleet/types.ts';
import type { Store } from '../store/store.ts';
import { TenantViews } from './tenant-tree.ts';
import { LiveTreeSource, servedUpload } from './live-tree.ts';
import type { LockMatcher } from './override-lock.ts';

/** The uploads a phone reads back (overrides, contact directory, call list), highest precedence first. */
const READ_BACK: readonly UploadKind[] = ['override-phone', 'override-web', 'directory', 'calls'];

/** What explain needs of the fleet service: its rendered files and a phone's effective settings. */
export interface ExplainFleet {
  files: ManagedFiles;
  effective(mac: Mac): EffectiveSetting[];
}


export interface Explained {
  resolution: Resolution;
  /** Present when a fleet was given. */
  managed?: ManagedExplained;
  /** The phone's stored uploads, or null when no store was read. */
  stored: StoredUploadView[] | null;
  /** Said when the answer is the tree alone. */
  note?: string;
}

function managedOf(fleet: ExplainFleet, mac: Mac, tenant: string): ManagedExplained {
  const settings: ManagedExplained['settings'] = new Map();
  for (const e of fleet.effective(mac)) settings.set(e.name, { scope: e.scope, secret: e.secret, shadowed: e.shadowed });
  return { tenant, managed: fleet.files.tenantOf(mac) !== undefined, settings };
}

export async function explainPhone(
  treeIn: TreeFiles,
  store: Store | undefined,
  locks: LockMatcher | undefined,
  phone: PhoneIdentity,
  opts: ResolveOptions = {},
  fleet?: ExplainFleet,
): Promise<Explained> {
  const tenant = fleet?.files.tenantOf(phone.mac) ?? DEFAULT_TENANT;
  const tree = fleet ? new TenantViews(treeIn, fleet.files).of(tenant).tree : treeIn;
  const managed = fleet ? { managed: managedOf(fleet, phone.mac, tenant) } : {};
  if (!store) return { resolution: await resolvePhone(tree, phone, opts), stored: null, ...managed };
  // The master this phone last read, as the inventory has it, when no server path is given: a
  // tenant's phone reads tenant1/000000000000.cfg, and its uploads follow it (issue 13 item 4).
  let o = opts;
  if (o.masterName === undefined) {
    let last = (await store.phones.get(phone.mac))?.master;
    // A tenant's view is tenant-relative: the inventory's `acme/000000000000.cfg` is its `000000000000.cfg`.
    if (last && fleet && tenant !== DEFAULT_TENANT) last = last.startsWith(`${tenant}/`) ? last.slice(tenant.length + 1) : undefined;
    if (last) o = { ...o, masterName: isMasterName(last) ? `${parentDir(last)}/`.replace(/^\/$/, '') : last };
  }
  const resolution = await resolvePhone(new LiveTreeSource(tree, store, { locks }), phone, o);
  const stored: StoredUploadView[] = [];
  for (const kind of READ_BACK) {
    const key = uploadKeyOf(resolution.layout, kind);
    const a = key && (await servedUpload(store, tree, key, locks));
    if (!key || !a) continue;
    stored.push({ kind, path: key.path, version: a.stored.version, storedAt: a.stored.storedAt, address: a.stored.address, served: !a.superseded, why: a.why, stripped: a.stripped });
  }
  return { resolution, stored, ...managed };
}
