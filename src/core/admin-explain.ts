// `explain` through the admin service (issue 15 "Resources": `/phones/:mac/explain`, the same JSON
// as `polyprov explain --json`): what one phone gets from the server — its tenant's view of the
// tree, its stored uploads (served or superseded, locked parameters stripped) and its managed
// settings with the scope that set each — answered by the running server from its own store and
// fleet. The face turns the result into JSON with config/explain-json.ts, secrets masked.
import { partNumberFor } from '../config/models.ts';
import type { ResolveOptions } from '../config/resolver.ts';
import { TreeFiles } from '../config/tree-source.ts';
import type { Mac } from '../domain.ts';
import { isProvError } from '../errors.ts';
import type { ServerOptions } from '../options.ts';
import type { Store } from '../store/store.ts';
import type { AdminFleet } from './admin-fleet.ts';
import { explainPhone, type Explained } from './explain.ts';
import { compileLocks } from './override-lock.ts';

export class AdminExplain {
  constructor(
    private readonly store: Store,
    private readonly options: Readonly<ServerOptions>,
    private readonly fleet: AdminFleet,
  ) {}

  /** The phone as the server would serve it; model and part number from the inventory (else the fleet) unless given. */
  async explain(mac: Mac, o: { model?: string; masterName?: string } = {}): Promise<Explained> {
    await this.fleet.open();
    const seen = await this.store.phones.get(mac);
    const model = o.model ?? seen?.model ?? this.managedModel(mac);
    const part = o.model !== undefined ? partNumberFor(o.model) : (seen?.partNumber ?? (model ? partNumberFor(model) : undefined));
    const phone = { mac, ...(model ? { model } : {}), ...(part ? { partNumber: part } : {}) };
    const opts: ResolveOptions = o.masterName !== undefined ? { masterName: o.masterName } : {};
    const tree = new TreeFiles(this.options.root);
    const locks = compileLocks(this.options.lockedParams);
    let files;
    try {
      files = this.fleet.files;
    } catch (err) {
      // A server whose fleet could not open (no key): the tree and uploads, said so.
      if (!isProvError(err)) throw err;
      return { ...(await explainPhone(tree, this.store, locks, phone, opts)), note: `managed settings not included: ${err.message}` };
    }
    return explainPhone(tree, this.store, locks, phone, opts, { files, effective: (m) => this.fleet.effective(m) });
  }

  private managedModel(mac: Mac): string | undefined {
    try {
      return this.fleet.phone(mac)?.model;
    } catch (err) {
      if (isProvError(err)) return undefined;
      throw err;
    }
  }
}
