// `polyprov tokens add|list|revoke`: REST API tokens (issue 15 "Who may do what"), through the
// core's admin service (every change recorded with the OS user). `add` prints the token once —
// alone on stdout, for scripts — and only its SHA-256 is stored; `list` never shows a token or hash.
import { Command, Option } from 'commander';
import { TOKEN_ROLES } from '../core/admin-tokens.ts';
import { DEFAULT_TENANT, type TokenRole } from '../domain.ts';
import { checkFleetName } from '../fleet/scope.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, printJson, withState, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface AddFlags extends StateFlags {
  role: TokenRole;
  tenant?: string;
}

export const register: RegisterCommand = (program, setExit) => {
  const tokens = program.command('tokens').description('manage REST API tokens (Authorization: Bearer …) for the admin listener');

  addStateOptions(
    tokens
      .command('add <name>')
      .description('create a token; it is printed once (stdout), only its SHA-256 is stored')
      .addOption(new Option('--role <role>', 'admin: everything; operator: phones, settings, check-sync, uploads (no accounts or tokens); read-only: reads').choices([...TOKEN_ROLES]).makeOptionMandatory())
      .option('--tenant <tenant>', 'bind the token to one tenant: it sees and changes only that tenant (other tenants and global resources are 404)')
      .option('--json', 'print the result as JSON (with the token, once)'),
  ).action(async (name: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<AddFlags>(cmd);
    const tenant = flags.tenant === undefined ? undefined : checkFleetName('tenant', flags.tenant);
    await withState(flags, async (admin) => {
      // The fleet's tenants (issue 14): a token bound to a tenant that does not exist would see nothing.
      if (tenant !== undefined && tenant !== DEFAULT_TENANT && !(await admin.fleet.open()).tenants().some((t) => t.name === tenant)) {
        process.stderr.write(`polyprov: no tenant ${tenant}; add it first with "polyprov fleet tenants add ${tenant}"\n`);
        setExit(EXIT.problem);
        return;
      }
      const { token, view } = await admin.tokens.add(name, flags.role, tenant);
      if (flags.json) return printJson({ ...view, token });
      process.stderr.write(`added token ${view.name} (${view.role}${view.tenant ? `, tenant ${view.tenant}` : ''}); it follows, shown only this once\n`);
      process.stdout.write(`${token}\n`);
    });
  });

  addStateOptions(tokens.command('list').description('list tokens (names, roles, tenants; never a token or its hash)').option('--json', 'print JSON')).action(
    async (_o: unknown, cmd: Command) => {
      const flags = flagsOf<StateFlags>(cmd);
      await withState(
        flags,
        async (admin) => {
          const list = await admin.tokens.list();
          if (flags.json) return printJson(list);
          process.stdout.write(textTable(['NAME', 'ROLE', 'TENANT', 'CREATED'], list.map((t) => [t.name, t.role, t.tenant ?? '(all)', isoSeconds(t.createdAt)])));
        },
        { readOnly: true },
      );
    },
  );

  addStateOptions(tokens.command('revoke <name>').description('revoke a token: it stops working at once on every node').option('--json', 'print JSON')).action(
    async (name: string, _o: unknown, cmd: Command) => {
      const flags = flagsOf<StateFlags>(cmd);
      await withState(flags, async (admin) => {
        const revoked = await admin.tokens.revoke(name);
        if (flags.json) printJson({ name, revoked });
        else if (revoked) process.stdout.write(`revoked token ${name}\n`);
        if (!revoked) {
          if (!flags.json) process.stderr.write(`polyprov: no token ${name}\n`);
          setExit(EXIT.problem);
        }
      });
    },
  );
};
