// Rule family "managed" (issue 14, Serving): a managed phone's settings reach it only through the
// file polyprov renders for it, `managed/<MAC>.cfg`, and only when the master file the phone reads
// lists that file in CONFIG_FILES (`polyprov init` writes `managed/[PHONE_MAC_ADDRESS].cfg` first).
// Given the managed phones (`polyprov lint ROOT --data DIR` reads them from the fleet), this finds
// each master file that managed phones would read without it: their managed settings would never
// be read. The master a phone reads is the one the boot server serves it: under its tenant's URL
// prefix `ROOT/<tenant>/<name>` when that file exists, else `ROOT/<name>` (per-file overlay),
// `<MAC>.cfg` before `000000000000.cfg`; with neither, polyprov renders a default master that
// lists the managed file, so nothing to warn about.
import { DEFAULT_TENANT } from '../../domain.ts';
import { ProvError } from '../../errors.ts';
import { applyMaster } from '../master-file.ts';
import { partNumberFor } from '../models.ts';
import { DEFAULT_MASTER } from '../phone-layout.ts';
import type { Mac, MasterFile, PhoneIdentity } from '../types.ts';
import type { LintContext } from './context.ts';

/** A phone the fleet manages, as lint needs it. */
export interface ManagedPhoneRef {
  mac: string;
  tenant: string;
  model?: string;
}

/** The managed file's entry as a master file should list it. */
export const MANAGED_ENTRY = 'managed/[PHONE_MAC_ADDRESS].cfg';

/** `managed/<MAC>.cfg` (under any tenant prefix): rendered by polyprov, never a file of the tree. */
export function isManagedPath(path: string): boolean {
  return /(^|\/)managed\/[0-9a-fA-F]{12}\.cfg$/.test(path);
}

/** The master file a phone of this tenant would be served, as a tree path; undefined when polyprov renders the default one. */
export function masterFor(ctx: LintContext, mac: string, tenant: string): string | undefined {
  const prefix = tenant === DEFAULT_TENANT || tenant === '' ? '' : `${tenant}/`;
  const names = [`${mac}.cfg`, DEFAULT_MASTER];
  for (const name of names) {
    for (const p of prefix ? [`${prefix}${name}`, name] : [name]) if (ctx.has(p)) return ctx.realPath(p);
  }
  return undefined;
}

function listsManaged(master: MasterFile, phone: PhoneIdentity): boolean {
  const want = `managed/${phone.mac}.cfg`;
  return applyMaster(master, phone).configFiles.some((e) => e.trim().replace(/^(\.\/|\/)+/, '').toLowerCase() === want);
}

export function lintManaged(ctx: LintContext): ProvError[] {
  const phones = ctx.opts.managed;
  if (!phones || phones.length === 0) return [];
  const missing = new Map<string, string[]>();
  for (const ref of phones) {
    const mac = ref.mac.toLowerCase() as Mac;
    const path = masterFor(ctx, mac, ref.tenant);
    if (path === undefined) continue;
    const master = ctx.masters.get(path);
    if (!master) continue; // a file that does not parse as a master: reported by the xml/master rules
    const model = ref.model ?? ctx.modelOf(mac);
    const part = model ? partNumberFor(model) : undefined;
    if (listsManaged(master, { mac, ...(model ? { model } : {}), ...(part ? { partNumber: part } : {}) })) continue;
    let list = missing.get(path);
    if (!list) missing.set(path, (list = []));
    list.push(mac);
  }
  const out: ProvError[] = [];
  for (const [path, macs] of missing) {
    const master = ctx.masters.get(path)!;
    const attr = master.attrs.find((a) => a.name === 'CONFIG_FILES') ?? master.attrs[0];
    const shown = macs.slice(0, 3).join(', ') + (macs.length > 3 ? `, … (${macs.length - 3} more)` : '');
    out.push(
      new ProvError(
        'PP_CFG_MANAGED_NOT_LISTED',
        `${macs.length} managed phone${macs.length === 1 ? '' : 's'} (${shown}) read${macs.length === 1 ? 's' : ''} this master file, but its CONFIG_FILES does not list ${MANAGED_ENTRY}: the settings polyprov manages for ${macs.length === 1 ? 'it' : 'them'} are never read`,
        {
          file: path,
          line: attr?.pos.line ?? 1,
          column: attr?.pos.column ?? 1,
          hint: `Add ${MANAGED_ENTRY} first in CONFIG_FILES (as polyprov init writes it), or remove this master so polyprov serves its default one.`,
        },
      ),
    );
  }
  return out;
}
