// The upload-over-tree overlay: a phone's stored upload (override, contact directory, call list)
// is served in place of the tree file of the same name, with locked parameters removed from
// overrides. `servedUpload` is the one place that decides it; the boot service serves what it
// returns, and `LiveTreeSource` (the server's live content as a TreeSource) runs the resolver
// over the same answer, so `explain` and `overrides diff` tell what a phone really gets.
import { uploadKeyAt } from '../config/phone-layout.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { TreeSource } from '../config/types.ts';
import type { StoredFile, UploadKey } from '../domain.ts';
import type { Store } from '../store/store.ts';
import { stripLocked, type LockMatcher } from './override-lock.ts';

export interface ServedUpload {
  stored: StoredFile;
  /** What the phone gets: the stored bytes, locked parameters removed from an override. */
  body: Buffer;
  /** Locked parameters removed from the served copy. */
  stripped: string[];
}

function isOverride(key: UploadKey): boolean {
  return key.kind === 'override-phone' || key.kind === 'override-web';
}

/** The stored upload served for this key, as the boot service serves it; undefined when none is stored. */
export async function servedUpload(store: Store, key: UploadKey, locks: LockMatcher | undefined): Promise<ServedUpload | undefined> {
  const stored = await store.uploads.current(key);
  if (!stored) return undefined;
  const raw = await stored.read();
  if (!locks || !isOverride(key)) return { stored, body: raw, stripped: [] };
  const s = stripLocked(raw, key.path, locks);
  return { stored, body: s.body, stripped: s.stripped };
}

export interface LiveTreeOptions {
  /** Read as if the phones had uploaded no override (the server's own view, `overrides diff`). */
  hideOverrides?: boolean;
  /** The server's lockedParams, compiled (override-lock.ts). */
  locks?: LockMatcher;
}

/** The provisioning tree with the phones' stored uploads in front, exactly as the boot service serves them. */
export class LiveTreeSource implements TreeSource {
  readonly tree: TreeFiles;
  /** Stored uploads met while reading, by tree path: `explain` names them as sources. */
  readonly uploads = new Map<string, ServedUpload>();

  constructor(
    root: string | TreeFiles,
    private readonly store: Store,
    private readonly opts: LiveTreeOptions = {},
  ) {
    this.tree = typeof root === 'string' ? new TreeFiles(root) : root;
  }

  async read(path: string): Promise<Buffer | null> {
    const key = uploadKeyAt(path);
    if (key && !(this.opts.hideOverrides && isOverride(key))) {
      const served = await servedUpload(this.store, key, this.opts.locks);
      if (served) {
        this.uploads.set(path, served);
        return served.body;
      }
    }
    return this.tree.read(path);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.read(path)) !== null;
  }

  list(): AsyncIterable<string> {
    return this.tree.list();
  }
}
