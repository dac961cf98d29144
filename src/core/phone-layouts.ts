// The phone layouts the boot service needs on its serving path: which master file governs a
// phone's upload, and where that master puts each upload kind. Every rule is phone-layout.ts's;
// this module only finds the master files in the served tree and remembers what it worked out.
//
// Which master applies (issue 13 item 4): the one this phone last fetched (the inventory keeps it:
// a tenant's phones fetch `tenant1/000000000000.cfg` when their server address carries
// `tenant1/`), else the master beside the upload path (phone-layout.ts `mastersBeside`).
// Master files are parsed once per version and a phone's layout is worked out once per master
// version and model ("a phone's upload directories are computed once per master-file version",
// README, The serving path).
import { isMasterName, layoutOf, macOfName, masterCandidates, mastersBeside, parentDir, uploadName, type PhoneLayout, type UploadLayout } from '../config/phone-layout.ts';
import { parseMasterFile } from '../config/master-file.ts';
import { partNumberFor } from '../config/models.ts';
import type { TreeFiles } from '../config/tree-source.ts';
import type { MasterFile, PhoneIdentity } from '../config/types.ts';
import type { Mac } from '../domain.ts';
import { isManagedPath } from './managed-path.ts';

interface ParsedMaster {
  etag: string;
  /** Null when the file does not parse as a master: the phone moves on to the next name, as explain does. */
  master: MasterFile | null;
  /** Per phone (`mac|model|part`): only what uploads need, the directories shared (see compact). */
  layouts: Map<string, UploadLayout>;
  /** One object per distinct value, so 10,000 phones of one master hold one copy (issue 14 Scale: server RSS). */
  shared: Map<string, object>;
}

/**
 * The phone a master-file request (`tenant1/0004f2000001.cfg`, `tenant1/000000000000.cfg`) surely
 * belongs to: the MAC in its name, or the User-Agent's serial ("Tag SN to UA"). Never a MAC
 * guessed from the address: phones behind one NAT would take each other's tenants.
 */
export function masterReader(rel: string, mac: Mac | undefined, serial: string | undefined): Mac | undefined {
  if (!mac || !isMasterName(rel) || isManagedPath(rel)) return undefined;
  return macOfName(rel) === mac || serial === mac ? mac : undefined;
}

/** Looks up the master a phone last fetched, from the inventory (only when this process has not seen it). */
export type LastMasterLookup = (mac: Mac) => Promise<string | undefined>;

export class PhoneLayouts {
  private readonly masters = new Map<string, ParsedMaster>();
  /** The master each phone last fetched from this process, or null when the inventory knows none. */
  private readonly lastMaster = new Map<Mac, string | null>();

  constructor(
    readonly tree: TreeFiles,
    private readonly lookupLastMaster?: LastMasterLookup,
  ) {}

  /**
   * A phone asked for this master file (a `<MAC>.cfg` or `000000000000.cfg` in some directory),
   * found or not: its server path is that directory, and the master it finds there governs it.
   */
  noteMasterRead(mac: Mac, rel: string): void {
    if (this.lastMaster.get(mac) !== rel) this.remember(mac, rel);
  }

  /** Whether this phone asked for its master in `rel`'s directory (so a 000000000000.cfg read there, named by address only, is its). */
  askedIn(mac: Mac, rel: string): boolean {
    const last = this.lastMaster.get(mac);
    return typeof last === 'string' && parentDir(last) === parentDir(rel);
  }

  private remember(mac: Mac, rel: string | null): void {
    if (this.lastMaster.size >= 200_000) this.lastMaster.delete(this.lastMaster.keys().next().value as Mac);
    this.lastMaster.set(mac, rel);
  }

  /**
   * The layout that governs this phone's upload at `rel`. With no master file anywhere, the
   * phone's directories are all the root (white paper: null directories mean the root).
   */
  async forUpload(rel: string, mac: Mac, model?: string, partNumber?: string): Promise<UploadLayout> {
    const last = await this.lastMasterOf(mac);
    if (last !== undefined) {
      const dir = parentDir(last);
      for (const c of masterCandidates(mac, dir ? `${dir}/` : undefined)) {
        const l = await this.layoutAt(c.path, mac, model, partNumber);
        if (l) return l;
      }
    }
    for (const m of mastersBeside(rel, mac)) {
      const l = await this.layoutAt(m, mac, model, partNumber);
      if (l) return l;
    }
    return layoutOf(null, this.phone(mac, model, partNumber), []);
  }

  /** The phone's layout as an administrator's tool needs it: its last master, else `<MAC>.cfg` or `000000000000.cfg` at the root. */
  forPhone(mac: Mac, model?: string, partNumber?: string): Promise<UploadLayout> {
    return this.forUpload(uploadName(mac, 'override-phone'), mac, model, partNumber);
  }

  private phone(mac: Mac, model: string | undefined, part?: string): PhoneIdentity {
    const partNumber = part ?? (model ? partNumberFor(model) : undefined);
    return { mac, ...(model ? { model } : {}), ...(partNumber ? { partNumber } : {}) };
  }

  private async lastMasterOf(mac: Mac): Promise<string | undefined> {
    let last = this.lastMaster.get(mac);
    if (last === undefined && this.lookupLastMaster) {
      // Once per phone per process: after that the answer (even "none") is remembered.
      last = (await this.lookupLastMaster(mac).catch(() => undefined)) ?? null;
      if (!this.lastMaster.has(mac)) this.remember(mac, last);
    }
    return last ?? undefined;
  }

  /** The phone's layout on the master at `rel`, or undefined when there is no such file or it is no master (phone-layout.ts findMasterFile moves on too). */
  private async layoutAt(rel: string, mac: Mac, model: string | undefined, partNumber: string | undefined): Promise<UploadLayout | undefined> {
    // The managed file is named like a master but is none (issue 14).
    if (isManagedPath(rel)) return undefined;
    const f = this.tree.findNow(rel);
    if (!f || f.isDirectory) return undefined;
    let parsed = this.masters.get(f.rel);
    if (!parsed || parsed.etag !== f.etag) {
      let master: MasterFile | null;
      try {
        master = parseMasterFile(await this.tree.contents(f), f.rel);
      } catch {
        master = null; // lint reports it; the phone cannot use it either
      }
      parsed = { etag: f.etag, master, layouts: new Map(), shared: new Map() };
      if (this.masters.size >= 10_000) this.masters.clear();
      this.masters.set(f.rel, parsed);
    }
    if (!parsed.master) return undefined;
    const key = `${mac}|${model ?? ''}|${partNumber ?? ''}`;
    let layout = parsed.layouts.get(key);
    if (!layout) {
      layout = compact(parsed, layoutOf({ path: f.rel, master: parsed.master }, this.phone(mac, model, partNumber), []));
      if (parsed.layouts.size >= 100_000) {
        parsed.layouts.clear();
        parsed.shared.clear();
      }
      parsed.layouts.set(key, layout);
    }
    return layout;
  }
}

/**
 * The part of a phone's layout uploads need, kept per phone: the phone's MAC and references to
 * the master, directories and directory attributes its master gives every phone alike (a full
 * layout, ~1.5 KB a phone, was 15 MB of a 10,000-phone server's heap).
 */
function compact(parsed: ParsedMaster, l: PhoneLayout): UploadLayout {
  const one = <T extends object>(kind: string, v: T): T => {
    const key = `${kind}\n${JSON.stringify(v)}`;
    const hit = parsed.shared.get(key);
    if (hit) return hit as T;
    parsed.shared.set(key, v);
    return v;
  };
  return {
    phone: { mac: l.phone.mac },
    master: l.master ? one('master', l.master) : null,
    directories: one('dirs', l.directories),
    effectiveMaster: l.effectiveMaster ? one('em', { directories: l.effectiveMaster.directories }) : null,
  };
}
