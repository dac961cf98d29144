// Binds notify's Inventory to the admin service's inventory reads (what phones told the boot
// server: address, model, learned SIP user/port, last seen; src/core/admin-inventory.ts) and to
// the resolver (the phone's effective configuration:
// reg.1 line and its credentials, voIpProt.SIP.local.port, apps.push.*).
import type { TreeSource } from '../config/types.ts';
import { resolvePhone } from '../config/resolver.ts';
import type { AdminInventory } from '../core/admin-inventory.ts';
import type { Mac, Phone } from '../domain.ts';
import type { Inventory, InventoryPhone, LineConfig } from './targets.ts';

function toInventoryPhone(p: Phone): InventoryPhone {
  const o: InventoryPhone = { mac: p.mac, lastSeen: p.lastSeen };
  if (p.model) o.model = p.model;
  if (p.address) o.address = p.address;
  if (p.sipUser) o.sipUser = p.sipUser;
  if (p.sipPort) o.sipPort = p.sipPort;
  return o;
}

/**
 * `tree`: the provisioning tree, or per phone the tree it is served (a managed phone's tenant view,
 * where managed/<MAC>.cfg holds its line: issue 14, `settings set --notify`).
 */
export function adminInventory(inventory: AdminInventory, tree: TreeSource | ((mac: Mac) => TreeSource) | undefined): Inventory {
  return {
    async get(mac) {
      const p = await inventory.phone(mac);
      return p ? toInventoryPhone(p) : undefined;
    },
    async list() {
      return (await inventory.phones()).map(toInventoryPhone);
    },
    async lineConfig(phone): Promise<LineConfig> {
      if (!tree) return {};
      const r = await resolvePhone(typeof tree === 'function' ? tree(phone.mac) : tree, { mac: phone.mac, ...(phone.model ? { model: phone.model } : {}) });
      const v = (name: string) => {
        const e = r.params.get(name);
        return e && e.applied !== false && e.value !== '' ? e.value : undefined;
      };
      const out: LineConfig = {};
      const set = <K extends keyof LineConfig>(k: K, val: LineConfig[K] | undefined) => {
        if (val !== undefined) out[k] = val;
      };
      set('address', v('reg.1.address'));
      set('userId', v('reg.1.auth.userId'));
      set('password', v('reg.1.auth.password'));
      const port = Number(v('voIpProt.SIP.local.port'));
      if (Number.isInteger(port) && port > 0 && port < 65536) out.localPort = port;
      set('pushUser', v('apps.push.username'));
      set('pushPassword', v('apps.push.password'));
      return out;
    },
    seenSince: (mac: Mac, since: Date) => inventory.seenSince(mac, since),
  };
}
