// Which directories a phone uploads to: the LOG_FILE_DIRECTORY, OVERRIDES_DIRECTORY,
// CONTACTS_DIRECTORY and CALL_LISTS_DIRECTORY of the master file that phone reads (white
// paper, Master Configuration File: empty means the root of the provisioning path). Master
// files are parsed once and re-read only when their size or mtime changes.
import { applyMaster, parseMasterFile } from '../config/master-file.ts';
import type { Mac, MasterFile } from '../config/types.ts';
import type { TreeFiles } from '../config/tree-source.ts';

export interface PhoneDirectories {
  /** Master file the phone reads (root-relative), or undefined when the tree has none. */
  master?: string;
  /** By attribute name (`OVERRIDES_DIRECTORY`) → root-relative directory ('' = root), or a URL elsewhere. */
  dirs: Record<string, string>;
}

const ZERO = '000000000000.cfg';

export class PhoneDirectoryIndex {
  private readonly cache = new Map<string, { etag: string; master: MasterFile | null; phones: Map<string, PhoneDirectories> }>();

  constructor(private readonly tree: TreeFiles) {}

  private async loadMaster(rel: string): Promise<{ rel: string; master: MasterFile | null; phones: Map<string, PhoneDirectories> } | undefined> {
    const f = await this.tree.find(rel);
    if (!f || f.isDirectory) return undefined;
    const hit = this.cache.get(f.rel);
    if (hit && hit.etag === f.etag) return { rel: f.rel, master: hit.master, phones: hit.phones };
    let master: MasterFile | null = null;
    try {
      master = parseMasterFile(await this.tree.contents(f), f.rel);
    } catch {
      master = null; // a broken master is the linter's business; uploads then go to the root
    }
    const phones = new Map<string, PhoneDirectories>();
    this.cache.set(f.rel, { etag: f.etag, master, phones });
    return { rel: f.rel, master, phones };
  }

  /** The phone's master (`<MAC>.cfg`, else `000000000000.cfg`) applied to it. */
  async forPhone(mac: Mac, model?: string, partNumber?: string): Promise<PhoneDirectories> {
    const found = (await this.loadMaster(`${mac}.cfg`)) ?? (await this.loadMaster(ZERO));
    if (!found || !found.master) return { master: found?.rel, dirs: {} };
    // Applying a master ([PHONE_*] tokens, model-specific values) is per phone and model; a
    // phone uploads and reads its overrides again and again, so remember the answer for as
    // long as the master file is unchanged.
    const memoKey = `${mac}|${model ?? ''}|${partNumber ?? ''}`;
    const memo = found.phones.get(memoKey);
    if (memo) return memo;
    const eff = applyMaster(found.master, { mac, model, partNumber });
    const base = found.rel.includes('/') ? found.rel.slice(0, found.rel.lastIndexOf('/')) : '';
    const dirs: Record<string, string> = {};
    for (const [name, value] of Object.entries(eff.directories)) dirs[name] = resolveDir(base, value);
    const out = { master: found.rel, dirs };
    if (found.phones.size >= 100_000) found.phones.clear();
    found.phones.set(memoKey, out);
    return out;
  }
}

/** Relative directories resolve against the master file's directory; URLs stay as written. */
export function resolveDir(base: string, value: string): string {
  const v = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return v;
  const parts = (base ? `${base}/${v}` : v).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out.join('/');
}
