// The upload-over-tree overlay: a phone's stored upload (override, contact directory, call list)
// is served in place of the tree file of the same name, with locked parameters removed from
// overrides. `servedUpload` is the one place that decides it; the boot service serves what it
// returns, and `LiveTreeSource` (the server's live content as a TreeSource) runs the resolver
// over the same answer, so `explain` and `overrides diff` tell what a phone really gets.
//
// The newer wins (issue 13 item 3): an upload records the version (content hash) of the tree file
// of its name when it is stored; when that tree file is later edited, the edit is served, until
// the phone uploads again. Over HTTP, FTP and TFTP alike, since every transport reads through here.
import { createHash } from 'node:crypto';
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
  /** True when the tree file of this name was edited after the upload: the tree file is served instead. */
  superseded: boolean;
  /** Which is served and why, in words (`explain`, `overrides show`). */
  why: string;
}

const versions = new WeakMap<TreeFiles, Map<string, { etag: string; version: string }>>();

/**
 * The version of the tree file at `path`: the sha-256 of its content, or '' when the tree has no
 * such file. Remembered per file version (etag), so a phone's repeated reads hash nothing.
 */
export async function treeVersion(tree: TreeFiles, path: string): Promise<string> {
  const f = tree.findNow(path);
  if (!f || f.isDirectory) return '';
  let byPath = versions.get(tree);
  if (!byPath) versions.set(tree, (byPath = new Map()));
  const hit = byPath.get(f.rel);
  if (hit && hit.etag === f.etag) return hit.version;
  const version = createHash('sha256').update(await tree.contents(f)).digest('hex');
  if (byPath.size >= 100_000) byPath.clear();
  byPath.set(f.rel, { etag: f.etag, version });
  return version;
}

function isOverride(key: UploadKey): boolean {
  return key.kind === 'override-phone' || key.kind === 'override-web';
}

/**
 * The stored upload for this key as the boot service treats it: undefined when none is stored;
 * `superseded` when the tree file of that name changed since the upload was stored (then the tree
 * file is what the phone gets). An upload stored before versions were recorded always wins.
 */
export async function servedUpload(
  store: Store,
  tree: TreeFiles,
  key: UploadKey,
  locks: LockMatcher | undefined,
  /** The upload's path in `tree` (a tenant's view: the key's path without the tenant's prefix). */
  treePath: string = key.path,
): Promise<ServedUpload | undefined> {
  const stored = await store.uploads.current(key);
  if (!stored) return undefined;
  const when = `stored ${stored.storedAt.toISOString()} from ${stored.address}`;
  if (stored.treeVersion !== undefined) {
    const now = await treeVersion(tree, treePath);
    if (now !== '' && now !== stored.treeVersion) {
      const why = `the tree file ${treePath} was edited after this upload (${when}), so the tree file is served until the phone uploads again`;
      return { stored, body: Buffer.alloc(0), stripped: [], superseded: true, why };
    }
  }
  const why =
    stored.treeVersion === undefined || stored.treeVersion === ''
      ? `the phone's upload (${when}) is served${stored.treeVersion === '' ? '; the tree had no file of this name then' : ''}`
      : `the phone's upload (${when}) is newer than the tree file's last edit, so it is served`;
  const raw = await stored.read();
  if (!locks || !isOverride(key)) return { stored, body: raw, stripped: [], superseded: false, why };
  const s = stripLocked(raw, key.path, locks);
  return { stored, body: s.body, stripped: s.stripped, superseded: false, why };
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
      const served = await servedUpload(this.store, this.tree, key, this.opts.locks);
      if (served && !served.superseded) return served.body;
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
