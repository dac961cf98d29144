// `polyprov explain` as a core service (issue 13 item 2): what one phone ends up with, read the
// way the boot server serves it — the tree with the phone's stored uploads in front (the one
// overlay, live-tree.ts), locked parameters stripped from overrides, and for each stored upload
// whether it or the tree file of the same name is served, and why (issue 13 item 3). Without a
// store it is the tree alone, and says so.
import type { StoredUploadView } from '../config/explain-json.ts';
import { isMasterName, parentDir, uploadKeyOf } from '../config/phone-layout.ts';
import { resolvePhone, type Resolution, type ResolveOptions } from '../config/resolver.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { PhoneIdentity } from '../config/types.ts';
import type { UploadKind } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { LiveTreeSource, servedUpload } from './live-tree.ts';
import type { LockMatcher } from './override-lock.ts';

/** The uploads a phone reads back (overrides, contact directory, call list), highest precedence first. */
const READ_BACK: readonly UploadKind[] = ['override-phone', 'override-web', 'directory', 'calls'];

export interface Explained {
  resolution: Resolution;
  /** The phone's stored uploads, or null when no store was read. */
  stored: StoredUploadView[] | null;
  /** Said when the answer is the tree alone. */
  note?: string;
}

export async function explainPhone(tree: TreeFiles, store: Store | undefined, locks: LockMatcher | undefined, phone: PhoneIdentity, opts: ResolveOptions = {}): Promise<Explained> {
  if (!store) return { resolution: await resolvePhone(tree, phone, opts), stored: null };
  // The master this phone last read, as the inventory has it, when no server path is given: a
  // tenant's phone reads tenant1/000000000000.cfg, and its uploads follow it (issue 13 item 4).
  let o = opts;
  if (o.masterName === undefined) {
    const last = (await store.phones.get(phone.mac))?.master;
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
  return { resolution, stored };
}
