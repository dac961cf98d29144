// The managed fleet of a node that started while its PostgreSQL was down (issue 16, Several nodes:
// "a node that loses the database keeps serving … answers 503 with Retry-After for the rest"). The
// fleet service needs the store to load the fleet and to check the secret key, so until the
// database answers the boot path gets this stand-in: the default tenant only, and the managed
// files and default master refused as PP_STORE_UNAVAILABLE (503 + Retry-After: the node cannot
// prove what it would serve is current). It retries every second and whenever the store's feed
// says something changed; once the fleet service opens, everything is delegated to it.
import { DEFAULT_TENANT, type Mac } from '../domain.ts';
import { isProvError, ProvError } from '../errors.ts';
import type { FleetService } from '../fleet/fleet-service.ts';
import type { ManagedFiles, RenderedFile } from '../fleet/types.ts';
import type { Logger } from '../log.ts';

const RETRY_MS = 1_000;

export function fleetNotRead(): ProvError {
  return new ProvError('PP_STORE_UNAVAILABLE', 'the managed fleet has not been read yet: the database was unreachable when this node started', {
    hint: 'polyprov reconnects by itself; the request can be retried.',
  });
}

export class LateFleet implements ManagedFiles {
  svc: FleetService | undefined;
  #timer: NodeJS.Timeout | undefined;
  #trying = false;
  #stopped = false;
  #lastCode: string | undefined;

  constructor(
    private readonly open: () => Promise<FleetService>,
    private readonly onOpen: (svc: FleetService) => void,
    private readonly log?: Logger,
  ) {
    this.#timer = setInterval(() => void this.tryOpen(), RETRY_MS);
    this.#timer.unref();
  }

  /** One attempt (also called by the store's feed); true once the fleet service is open. */
  async tryOpen(): Promise<boolean> {
    if (this.svc || this.#trying || this.#stopped) return this.svc !== undefined;
    this.#trying = true;
    try {
      const svc = await this.open();
      if (this.#stopped) return false;
      this.svc = svc;
      this.stop();
      this.#stopped = false;
      this.log?.info({ event: 'fleet.opened.late' }, 'fleet: the store answers; the managed fleet is read and served');
      this.onOpen(svc);
      return true;
    } catch (err) {
      const code = isProvError(err) ? err.code : 'error';
      // A wrong key is as fatal as at start, but a running node does not exit: it says so and keeps refusing managed files.
      if (code !== this.#lastCode) this.log?.[code === 'PP_STORE_UNAVAILABLE' ? 'warn' : 'error']({ event: 'fleet.open.failed', code, err: (err as Error).message }, `fleet: not read yet: ${(err as Error).message}`);
      this.#lastCode = code;
      return false;
    } finally {
      this.#trying = false;
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  hasTenant(name: string): boolean {
    return this.svc ? this.svc.hasTenant(name) : name === DEFAULT_TENANT;
  }

  tenantOf(mac: Mac): string | undefined {
    return this.svc?.tenantOf(mac);
  }

  managedFile(mac: Mac): RenderedFile {
    if (!this.svc) throw fleetNotRead();
    return this.svc.managedFile(mac);
  }

  defaultMaster(tenant: string): RenderedFile {
    if (!this.svc) throw fleetNotRead();
    return this.svc.defaultMaster(tenant);
  }

  get stats(): ManagedFiles['stats'] {
    return this.svc?.stats ?? { renders: 0, storeReads: 0, generation: 0 };
  }
}
