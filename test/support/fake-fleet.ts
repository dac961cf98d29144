// A small in-memory ManagedFiles (src/fleet/types.ts) for the boot path's tenant tests: tenants,
// managed phones with their settings, rendered with the fleet's own renderer (src/fleet/render.ts)
// and cached per MAC until changed, counting renders as the real snapshot does. And a real core
// (src/core/boot-service.ts) over the in-memory store with this fleet passed in, as
// test/support/boot-core.ts starts one without.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_TENANT, type Mac } from '../../src/domain.ts';
import { createBootService } from '../../src/core/boot-service.ts';
import { etagOf, renderDefaultMaster, renderEmpty, renderManaged } from '../../src/fleet/render.ts';
import type { ManagedFiles, RenderedFile } from '../../src/fleet/types.ts';
import { loadServerOptions, type ServerOptions } from '../../src/options.ts';
import { ObservedCore, type BootCore } from './boot-core.ts';
import { openMemoryStore } from './memory-store.ts';

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

/** A real core serving `root` with `fleet`; the server's defaults, a rate limit out of the way, then `opts`. */
export async function startFleetCore(root: string, fleet: ManagedFiles | undefined, opts: Partial<ServerOptions> = {}): Promise<BootCore> {
  const data = await mkdtemp(join(tmpdir(), 'polyprov-fleet-core-data-'));
  const store = await openMemoryStore(join(data, 'tmp'));
  const base = loadServerOptions({ root, data }, {});
  const options = Object.freeze({ ...base, rateLimitPerSec: 1e6, rateLimitBurst: 1e6, ...opts, root, data } as ServerOptions);
  const core = await createBootService({ options, store, log: pino({ level: 'silent' }), fleet });
  return {
    root,
    data,
    store,
    options,
    core,
    service: new ObservedCore(core),
    async stored(key) {
      const f = await store.uploads.current(key);
      return f && (await f.read());
    },
    async close() {
      await core.close();
      await store.close();
      await rm(data, { recursive: true, force: true });
    },
  };
}
