// Which phones' master files list a file of the tree: the per-phone masters (`<MAC>.cfg`) and the
// shared ones (`000000000000.cfg`) in the file's directory and each directory above it, since a
// master names its CONFIG_FILES relative to its own directory (phone-layout.ts layoutOf). The
// access policy asks this only for files that hold secrets (issue 13 item 6), so a directory's
// masters are read when such a file is first asked for, then again only when the directory or
// a master in it changed, or after REFRESH_MS (an edit in place keeps the directory's mtime).
// Limit: a master in a subdirectory that names a file above it (`../bob.cfg`) is not seen for that
// file; such a file then counts as its other readers' only.
import { isUrl, parseMasterFile } from '../config/master-file.ts';
import { DEFAULT_MASTER, inDir, isMasterName, layoutOf, macOfName, parentDir } from '../config/phone-layout.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { MasterFile } from '../config/types.ts';
import type { Mac } from '../domain.ts';

/** How long a directory's index is trusted without looking at its masters again. */
const REFRESH_MS = 2000;
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
  private readonly parsed = new Map<string, { etag: string; master: MasterFile | null }>();

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

  private async index(dir: string): Promise<DirectoryIndex> {
    const d = this.tree.findNow(dir);
    const key = d ? d.etag : 'none';
    const hit = this.dirs.get(dir);
    if (hit && hit.key === key && this.now() - hit.at < REFRESH_MS) return hit;
    const idx: DirectoryIndex = { key, at: this.now(), perPhone: new Map(), shared: [] };
    for (const e of (await this.tree.entries(dir)) ?? []) {
      if (e.isDirectory || !isMasterName(e.name)) continue;
      const path = inDir(dir, e.name);
      const master = await this.master(path);
      if (!master) continue;
      const mac = macOfName(e.name);
      if (mac) {
        for (const c of layoutOf({ path, master }, { mac }, []).configFiles) {
          if (!c.path) continue;
          const list = idx.perPhone.get(c.path) ?? [];
          if (!list.includes(mac)) list.push(mac);
          idx.perPhone.set(c.path, list);
        }
      } else if (e.name === DEFAULT_MASTER) {
        for (const c of layoutOf({ path, master }, { mac: ANY_MAC }, []).configFiles) if (c.path && !isUrl(c.path)) idx.shared.push(sharedEntry(c.path));
      }
    }
    if (this.dirs.size >= 10_000) this.dirs.clear();
    this.dirs.set(dir, idx);
    return idx;
  }

  private async master(path: string): Promise<MasterFile | null> {
    const f = this.tree.findNow(path);
    if (!f || f.isDirectory) return null;
    const hit = this.parsed.get(path);
    if (hit && hit.etag === f.etag) return hit.master;
    let master: MasterFile | null;
    try {
      master = parseMasterFile(await this.tree.contents(f), path);
    } catch {
      master = null; // a broken master lists nothing (lint reports it)
    }
    if (this.parsed.size >= 100_000) this.parsed.clear();
    this.parsed.set(path, { etag: f.etag, master });
    return master;
  }
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
