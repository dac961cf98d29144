// A small in-memory ManagedFiles (src/fleet/types.ts) for the boot path's tenant tests: tenants,
// managed phones with their settings, rendered with the fleet's own renderer (src/fleet/render.ts)
// and cached per MAC until changed, counting renders as the real snapshot does. And a real core
// (src/core/boot-service.ts) over the in-memory store with this fleet passed in
// (test/support/boot-core.ts's startBootCore).
import { DEFAULT_TENANT, type Mac } from '../../src/domain.ts';
import { etagOf, renderDefaultMaster, renderEmpty, renderManaged } from '../../src/fleet/render.ts';
import type { ManagedFiles, RenderedFile } from '../../src/fleet/types.ts';
import type { ServerOptions } from '../../src/options.ts';
import { startBootCore, type BootCore } from './boot-core.ts';

export class FakeFleet implements ManagedFiles {
  private readonly tenants = new Set<string>([DEFAULT_TENANT]);
  private readonly phones = new Map<Mac, { tenant: string; settings: Record<string, string> }>();
  private readonly cache = new Map<Mac, RenderedFile>();
  private readonly masters = new Map<string, RenderedFile>();
  readonly stats = { renders: 0, storeReads: 0, generation: 1 };

  addTenant(...names: string[]): this {
    for (const n of names) this.tenants.add(n);
    return this;
  }

  /** A managed phone of `tenant` with these phone-scope settings (replacing any before). */
  setPhone(mac: string, tenant: string, settings: Record<string, string> = {}): this {
    this.phones.set(mac as Mac, { tenant, settings });
    this.cache.delete(mac as Mac);
    this.stats.generation++;
    return this;
  }

  hasTenant(name: string): boolean {
    return this.tenants.has(name);
  }

  tenantOf(mac: Mac): string | undefined {
    return this.phones.get(mac)?.tenant;
  }

  managedFile(mac: Mac): RenderedFile {
    let r = this.cache.get(mac);
    if (!r) {
      const p = this.phones.get(mac);
      const body = p ? renderManaged(Object.entries(p.settings).map(([name, value]) => ({ name, value })), mac) : renderEmpty();
      this.stats.renders++;
      r = { body, etag: etagOf(body) };
      this.cache.set(mac, r);
    }
    return r;
  }

  defaultMaster(tenant: string): RenderedFile {
    let r = this.masters.get(tenant);
    if (!r) {
      const body = renderDefaultMaster();
      r = { body, etag: etagOf(body) };
      this.masters.set(tenant, r);
    }
    return r;
  }
}

/** A real core serving `root` with `fleet` (startBootCore's, with the fleet passed in). */
export function startFleetCore(root: string, fleet: ManagedFiles | undefined, opts: Partial<ServerOptions> = {}): Promise<BootCore> {
  return startBootCore(opts, root, fleet);
}
