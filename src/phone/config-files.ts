// CONFIG_FILES in the application stage: read left to right from the server, and the phone's
// cached copies when one cannot be read. White paper, Default Configuration Parameter Values: "If
// one or more files could not be read from the provisioning server, the phone will use the cached
// version for all configuration files listed in the master configuration." A file read when
// another could not be is still saved when the flash has no copy of it.
import { joinTreePath } from '../config/phone-layout.ts';
import type { BootContext } from './boot-context.ts';
import type { FetchedTreeSource } from './fetched-tree.ts';
import type { MasterFound } from './master-lookup.ts';
import { resolveFileRef } from './server-address.ts';

/** Reads CONFIG_FILES (when the server was reached), picks server or cached copies, and adds them to `source`. */
export async function useConfigFiles(ctx: BootContext, master: MasterFound, contacted: boolean, source: FetchedTreeSource): Promise<void> {
  const fetched = new Map<string, Buffer>();
  let failed: string | undefined;
  if (contacted && master.from === 'server') {
    for (const entry of master.em.configFiles) {
      const key = joinTreePath('', entry) ?? entry;
      const r = await ctx.transfer(resolveFileRef(ctx.server, key), 'get');
      if (r.status === 'ok' && r.body) fetched.set(entry, r.body);
      else failed ??= `${entry} (${r.status === 'error' ? (r.error ?? r.wire) : r.status})`;
    }
  } else failed = master.from === 'cache' ? 'the master file' : 'the server';
  const cache = ctx.cache;
  let use: Map<string, Buffer>;
  if (failed === undefined) {
    use = fetched;
    cache.configFiles = fetched;
    ctx.record.configFrom = 'server';
  } else {
    // Every file that was read is cached (issue 13, item 16): without that, a tree where one entry
    // is always missing (the starter tree's phones/[PHONE_MAC_ADDRESS].cfg before the administrator
    // writes it) leaves the flash empty, and Stage 4 has nothing to boot from. A copy already in
    // flash is kept as it is: "the cached version for all configuration files" would mean nothing
    // if this boot's partial read replaced it.
    const hadCopies = cache.configFiles.size > 0;
    for (const [entry, body] of fetched) if (!cache.configFiles.has(entry)) cache.configFiles.set(entry, body);
    use = cache.configFiles;
    ctx.record.configFrom = hadCopies ? 'cache' : fetched.size > 0 ? 'server' : 'none';
    if (contacted) {
      ctx.note(hadCopies ? `could not read ${failed}; using the cached copies of all configuration files` : `could not read ${failed}; no cached copies, so going on without it`);
    }
  }
  for (const [entry, body] of use) source.set(joinTreePath('', entry) ?? entry, body);
}
