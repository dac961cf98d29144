// `polyprov fleet tenants|sites|groups add|list|remove NAME [--tenant T]` (issue 14, CLI): the
// names the fleet's scopes are made of. A tenant is a URL prefix (`/<tenant>/`), so a name that is
// also a file or folder at the tree root is refused (the service checks it against --root or the
// options' root). Sites and groups belong to a tenant (default: the default tenant). Everything
// goes through AdminService.fleet, which records each change.
import type { Command } from 'commander';
import type { AdminService } from '../core/admin.ts';
import { DEFAULT_TENANT } from '../domain.ts';
import type { FleetCommand } from '../fleet/types.ts';
import { addStateOptions } from '../options.ts';
import { EXIT } from './exit.ts';
import { withFleet } from './fleet-common.ts';
import { flagsOf, printJson, type StateFlags } from './state-store.ts';
import { textTable } from './text-table.ts';

interface NameFlags extends StateFlags {
  tenant?: string;
  root?: string;
}

type Kind = 'tenant' | 'site' | 'group';
const PLURAL: Record<Kind, string> = { tenant: 'tenants', site: 'sites', group: 'groups' };

function nameOf(x: string | { name: string }): string {
  return typeof x === 'string' ? x : x.name;
}

function command(kind: Kind, action: 'add' | 'remove', tenant: string, name: string): FleetCommand {
  if (kind === 'tenant') return { op: `tenant.${action}`, tenant: name };
  return { op: `${kind}.${action}`, tenant, name };
}

export function registerNames(fleet: Command, setExit: (code: number) => void): void {
  for (const kind of ['tenant', 'site', 'group'] as const) {
    const group = fleet.command(PLURAL[kind]).description(kind === 'tenant' ? 'tenants: each served under its own URL prefix /<tenant>/' : `${PLURAL[kind]} of a tenant (scopes ${kind}:NAME or ${kind}:TENANT/NAME)`);
    const withTenant = (c: Command) => (kind === 'tenant' ? c : c.option('--tenant <tenant>', `the tenant (default: ${DEFAULT_TENANT})`));
    const lister = async (flags: NameFlags, admin: AdminService): Promise<string[]> =>
      (kind === 'tenant' ? await admin.fleet.tenants() : kind === 'site' ? await admin.fleet.sites(flags.tenant ?? DEFAULT_TENANT) : await admin.fleet.groups(flags.tenant ?? DEFAULT_TENANT)).map(nameOf);

    for (const action of ['add', 'remove'] as const) {
      let c = withTenant(group.command(`${action} <name>`).description(`${action} a ${kind}${action === 'remove' && kind === 'tenant' ? ' (with its sites, groups, phones and settings)' : ''}`)).option('--json', 'print JSON');
      if (kind === 'tenant' && action === 'add') c = c.option('--root <dir>', 'the provisioning tree, whose root entries a tenant name may not clash with (default: from the options)');
      addStateOptions(c).action(async (name: string, _o: unknown, cmd: Command) => {
        const flags = flagsOf<NameFlags>(cmd);
        const tenant = flags.tenant ?? DEFAULT_TENANT;
        await withFleet(
          setExit,
          flags,
          async (admin) => {
            const exists = (await lister(flags, admin)).includes(name);
            const where = kind === 'tenant' || tenant === DEFAULT_TENANT ? '' : ` of tenant ${tenant}`;
            if (action === 'add' ? exists : !exists) {
              if (flags.json) printJson({ kind, name, ...(kind === 'tenant' ? {} : { tenant }), [action === 'add' ? 'added' : 'removed']: false });
              else process.stderr.write(`polyprov: ${kind} ${name}${where} ${action === 'add' ? 'exists already' : 'does not exist'}\n`);
              setExit(EXIT.problem);
              return;
            }
            await admin.fleet.apply([command(kind, action, tenant, name)]);
            if (flags.json) return printJson({ kind, name, ...(kind === 'tenant' ? {} : { tenant }), [action === 'add' ? 'added' : 'removed']: true });
            process.stdout.write(`${action === 'add' ? 'added' : 'removed'} ${kind} ${name}${where}\n`);
          },
          flags.root !== undefined ? { root: flags.root } : {},
        );
      });
    }

    addStateOptions(withTenant(group.command('list').description(`list the ${PLURAL[kind]}`)).option('--json', 'print JSON')).action(async (_o: unknown, cmd: Command) => {
      const flags = flagsOf<NameFlags>(cmd);
      await withFleet(setExit, flags, async (admin) => {
        const names = (await lister(flags, admin)).sort();
        if (flags.json) return printJson(names);
        process.stdout.write(textTable([kind.toUpperCase()], names.map((n) => [n])));
      }, { readOnly: true });
    });
  }
}
