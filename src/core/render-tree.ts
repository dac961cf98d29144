// `polyprov render --out DIR [--tenant T]` (issue 14, CLI): the tree one tenant is served, written
// out as a classic static provisioning tree any plain FTP/TFTP/HTTP server can serve — the files
// of the tenant's view (its own folder over the shared root, no other tenant's folder: the same
// per-file overlay the boot path uses, tenant-tree.ts), `managed/<MAC>.cfg` for each of its
// managed phones (the very bytes polyprov serves), and, where the view has no master file, the
// default master polyprov renders (it lists `managed/[PHONE_MAC_ADDRESS].cfg` first). A master of
// the tree is copied as it is, even one that does not list the managed file: the static tree
// gives phones what polyprov gives them (`lint --data` warns about such a master). Stored uploads
// (overrides, contact directories the phones uploaded) stay in the store.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { DEFAULT_MASTER } from '../config/phone-layout.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { ManagedPhone } from '../domain.ts';
import { ProvError } from '../errors.ts';
import type { ManagedFiles } from '../fleet/types.ts';
import { isManagedPath, MANAGED_DIR } from './managed-path.ts';
import { TenantViews } from './tenant-tree.ts';

export interface RenderTreeInput {
  /** The provisioning tree the server serves (ROOT). */
  root: string;
  /** Where to write; must be absent or empty unless `force`. */
  out: string;
  tenant: string;
  /** The fleet's rendered files (the fleet service). */
  fleet: ManagedFiles;
  /** The tenant's managed phones. */
  phones: readonly ManagedPhone[];
  /** Write into a non-empty directory (files of the same name are replaced). */
  force?: boolean;
}

export interface RenderTreeResult {
  /** Files copied from the tree (the tenant's view). */
  copied: number;
  /** `managed/<MAC>.cfg` files written. */
  managed: number;
  /** `tree`: the view's own 000000000000.cfg was copied; `default`: polyprov's default master was written. */
  master: 'tree' | 'default';
}

async function checkOut(root: string, out: string, force: boolean): Promise<void> {
  const rel = relative(resolve(root), resolve(out));
  if (rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel))) {
    throw new ProvError('PP_USAGE', `--out ${out} is inside the provisioning tree ${root}; the rendered tree would become part of what it renders`, { hint: 'Give a directory outside the tree.' });
  }
  const st = await stat(out).catch(() => null);
  if (st && !st.isDirectory()) throw new ProvError('PP_USAGE', `--out ${out} exists and is not a directory`);
  if (st && !force && (await readdir(out)).length > 0) {
    throw new ProvError('PP_USAGE', `--out ${out} is not empty; polyprov render writes a new tree`, { hint: 'Choose a new directory, or add --force to write into it (files of the same name are replaced, others kept).' });
  }
}

async function put(out: string, rel: string, body: Buffer): Promise<void> {
  const full = join(out, ...rel.split('/'));
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, body);
}

export async function renderTree(i: RenderTreeInput): Promise<RenderTreeResult> {
  const rootStat = await stat(i.root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new ProvError('PP_USAGE', `${i.root} is not a directory; give the provisioning tree the boot server serves (--root)`);
  await checkOut(i.root, i.out, i.force === true);
  await mkdir(i.out, { recursive: true });
  const view = new TenantViews(new TreeFiles(i.root), i.fleet).of(i.tenant).tree;
  let copied = 0;
  let hasMaster = false;
  for await (const rel of view.list()) {
    if (isManagedPath(rel)) continue; // polyprov serves the fleet's, below
    const body = await view.read(rel);
    if (body === null) continue;
    await put(i.out, rel, body);
    copied++;
    if (rel === DEFAULT_MASTER) hasMaster = true;
  }
  for (const p of i.phones) await put(i.out, `${MANAGED_DIR}/${p.mac}.cfg`, i.fleet.managedFile(p.mac).body);
  if (!hasMaster) await put(i.out, DEFAULT_MASTER, i.fleet.defaultMaster(i.tenant).body);
  return { copied, managed: i.phones.length, master: hasMaster ? 'tree' : 'default' };
}
