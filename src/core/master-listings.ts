// Which phones' master files list a file of the tree: the per-phone masters (`<MAC>.cfg`) and the
// shared ones (`000000000000.cfg`) in the file's directory and each directory above it, since a
// master names its CONFIG_FILES relative to its own directory (phone-layout.ts layoutOf). The
// access policy asks this only for files that hold secrets (issue 13 item 6), so a directory's
// masters are read when such a file is first asked for, then again when the directory changed or
// after REFRESH_MS (an edit in place keeps the directory's mtime); each master is parsed once per
// version, so a refresh costs a readdir and a stat per master.
// A tenant's view (tenant-tree.ts) names its directories' files itself (its folder over the shared
// root); `managed/` holds the fleet's per-phone files, named like masters but never masters (issue 14).
// Limit: a master in a subdirectory that names a file above it (`../bob.cfg`) is not seen for that
// file; such a file then counts as its other readers' only.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isUrl, parseMasterFile } from '../config/master-file.ts';
import { DEFAULT_MASTER, inDir, isMasterName, layoutOf, macOfName, parentDir } from '../config/phone-layout.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { MasterFile } from '../config/types.ts';
import type { Mac } from '../domain.ts';
import { MANAGED_DIR } from './managed-path.ts';

/**
 * How long a directory's index is trusted while the directory itself is unchanged: an editor that
 * saves by rename changes the directory at once; an edit in place is seen within this time.
 */
const REFRESH_MS = 30_000;
/** The MAC the shared master is applied with: no phone has it, so a substituted MAC is recognisable. */
const ANY_MAC = 'ffffffffffff' as Mac;

/** A CONFIG_FILES path of a shared master as a pattern: the MAC token and model/part tokens match any phone's. */
interface SharedEntry {
  re: RegExp;
  /** The pattern names one phone (a `[PHONE_MAC_ADDRESS]` entry): capture group 1 is its MAC. */
  perPhone: boolean;
}

interface DirectoryIndex {
  key: string;
  at: number;
  /** Tree path → the MACs whose own master lists it. */
  perPhone: Map<string, Mac[]>;
  shared: SharedEntry[];
}

/** Who reads a file, as far as the masters tell: `shared` when a shared master lists it for every phone. */
export type Readers = { shared: true } | { shared: false; phones: Mac[] };

export class MasterListings {
  private readonly dirs = new Map<string, DirectoryIndex>();
  private readonly building = new Map<string, Promise<DirectoryIndex>>();
  private readonly parsed = new Map<string, { etag: string; listed: Listed | undefined }>();

  constructor(
    private readonly tree: TreeFiles,
    private readonly now: () => number = Date.now,
  ) {}

  /** The phones whose masters list `rel`, or shared when a master every phone may read lists it. */
  async readersOf(rel: string): Promise<Readers> {
    const phones = new Set<Mac>();
    for (let dir = parentDir(rel); ; dir = parentDir(dir)) {
      const idx = await this.index(dir);
      for (const e of idx.shared) {
        const m = e.re.exec(rel);
        if (!m) continue;
        if (!e.perPhone) return { shared: true };
        phones.add(m[1]!.toLowerCase() as Mac);
      }
      for (const mac of idx.perPhone.get(rel) ?? []) phones.add(mac);
      if (dir === '') break;
    }
    return { shared: false, phones: [...phones].sort() };
  }

  private index(dir: string): Promise<DirectoryIndex> {
    const d = this.tree.findNow(dir);
    const key = d ? d.etag : 'none';
    const hit = this.dirs.get(dir);
    if (hit && hit.key === key && this.now() - hit.at < REFRESH_MS) return Promise.resolve(hit);
    // One rebuild at a time per directory; requests meanwhile wait for it.
    let building = this.building.get(dir);
    if (!building) {
      building = this.build(dir, key, d?.isDirectory === true).finally(() => this.building.delete(dir));
      this.building.set(dir, building);
    }
    return building;
  }

  private async build(dir: string, key: string, isDirectory: boolean): Promise<DirectoryIndex> {
    const idx: DirectoryIndex = { key, at: this.now(), perPhone: new Map(), shared: [] };
    let names: string[] = [];
    try {
      // Names only: a per-phone tree holds thousands of files, and only master names need a stat.
      const view = this.tree as TreeFiles & { names?: (dir: string) => string[] };
      if (dir === MANAGED_DIR) names = [];
      else if (view.names) names = view.names(dir);
      else if (isDirectory) names = readdirSync(join(this.tree.root, dir));
    } catch {
      names = [];
    }
    let seen = 0;
    for (const name of names) {
      if (!isMasterName(name)) continue;
      // A per-phone tree has thousands of masters: let requests through between batches.
      if (++seen % 500 === 0) await new Promise<void>((r) => setImmediate(r));
      const listed = await this.listed(inDir(dir, name));
      if (!listed) continue;
      if (listed.mac) {
        for (const path of listed.paths) {
          const list = idx.perPhone.get(path) ?? [];
          if (!list.includes(listed.mac)) list.push(listed.mac);
          idx.perPhone.set(path, list);
        }
      } else idx.shared.push(...listed.shared);
    }
    if (this.dirs.size >= 10_000) this.dirs.clear();
    this.dirs.set(dir, idx);
    return idx;
  }

  /** What one master lists, worked out once per version of the file. */
  private async listed(path: string): Promise<Listed | undefined> {
    const f = this.tree.findNow(path);
    if (!f || f.isDirectory) return undefined;
    const hit = this.parsed.get(path);
    if (hit && hit.etag === f.etag) return hit.listed;
    let master: MasterFile | undefined;
    try {
      master = parseMasterFile(await this.tree.contents(f), path);
    } catch {
      master = undefined; // a broken master lists nothing (lint reports it)
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const mac = macOfName(base);
    let listed: Listed | undefined;
    if (master && mac) {
      listed = { mac, paths: layoutOf({ path, master }, { mac }, []).configFiles.flatMap((c) => (c.path ? [c.path] : [])), shared: [] };
    } else if (master && base === DEFAULT_MASTER) {
      const paths = layoutOf({ path, master }, { mac: ANY_MAC }, []).configFiles.flatMap((c) => (c.path && !isUrl(c.path) ? [c.path] : []));
      listed = { paths: [], shared: paths.map(sharedEntry) };
    }
    if (this.parsed.size >= 100_000) this.parsed.clear();
    this.parsed.set(path, { etag: f.etag, listed });
    return listed;
  }
}

/** One master's contribution: a per-phone master's files, or a shared master's patterns. */
interface Listed {
  mac?: Mac;
  paths: string[];
  shared: SharedEntry[];
}

function sharedEntry(path: string): SharedEntry {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const perPhone = escaped.includes(ANY_MAC);
  // Model and part-number tokens stay unexpanded for a phone of no known model: any value matches.
  let first = true;
  const re = escaped
    .replace(new RegExp(ANY_MAC, 'g'), () => (first ? ((first = false), '([0-9a-f]{12})') : '\\1'))
    .replace(/\\\[PHONE_(?:MODEL_NUMBER|PART_NUMBER)\\\]/g, '[^/]+');
  return { re: new RegExp(`^${re}$`, 'i'), perPhone };
}
