// `polyprov accounts add|list|remove|passwd`: provisioning accounts phones authenticate with
// (issue 4, Access policy), through the core's admin service, which records every change with
// who made it (issue 12 item 4). Only HA1 per realm is stored (RFC 7616 §3.4.2); a password
// enters by stdin or is generated, and is printed only by `--generate`, once, because that is
// its purpose. An account belongs to a tenant (issue 14, Tenants: `--tenant T`); absent, the
// default tenant.
import { Command, Option } from 'commander';
import { accountView, checkAccountName, type AccountView } from '../core/admin-accounts.ts';
import { generatePassword } from '../core/passwords.ts';
import { DEFAULT_TENANT, type Account, type AccountKind, type Mac } from '../domain.ts';
import { checkFleetName } from '../fleet/scope.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, macArg, printJson, usage, withState, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface PasswordFlags extends StateFlags {
  passwordStdin?: boolean;
  generate?: boolean;
}

interface AddFlags extends PasswordFlags {
  phone?: string;
  kind?: AccountKind;
  tenant?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > 4096) throw usage('the password on stdin is over 4096 bytes');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The new password and whether it was generated (and so must be shown once). */
async function passwordFrom(flags: PasswordFlags): Promise<{ password: string; generated: boolean }> {
  if (flags.passwordStdin && flags.generate) throw usage('give either --password-stdin or --generate, not both');
  if (flags.generate) return { password: generatePassword(), generated: true };
  if (!flags.passwordStdin) {
    throw usage('no password given', 'Pipe it in with --password-stdin (printf %s "$PW" | polyprov accounts add USER --password-stdin), or use --generate.');
  }
  // One line; the newline a shell pipeline adds is not part of it.
  const text = (await readStdin()).replace(/\r?\n$/, '');
  if (text === '') throw usage('the password on stdin is empty');
  if (/[\r\n]/.test(text)) throw usage('the password on stdin spans several lines; give one line');
  return { password: text, generated: false };
}

export const register: RegisterCommand = (program, setExit) => {
  const accounts = program.command('accounts').description('manage provisioning accounts (HTTP Basic/Digest and FTP logins for phones)');

  addStateOptions(
    accounts
      .command('add <user>')
      .description('add an account; the password comes from stdin or is generated and printed once')
      .option('--phone <mac>', 'bind the account to one phone (only it may use the account, and only it reaches that phone’s files)')
      .addOption(new Option('--kind <kind>', 'site: any phone; phone: one phone (--phone); staging: staging only').choices(['site', 'phone', 'staging']))
      .option('--tenant <tenant>', `the tenant the account belongs to: it is accepted only under that tenant's URL prefix /<tenant>/ (default: ${DEFAULT_TENANT}, served at the root)`)
      .option('--password-stdin', 'read the password from stdin (one line)')
      .option('--generate', 'generate a random password and print it once')
      .option('--json', 'print the result as JSON'),
  ).action(async (user: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<AddFlags>(cmd);
    const tenant = flags.tenant === undefined || flags.tenant === DEFAULT_TENANT ? undefined : checkFleetName('tenant', flags.tenant);
    checkAccountName(user); // before the password is read
    const mac: Mac | undefined = flags.phone !== undefined ? macArg(flags.phone, '--phone') : undefined;
    const kind: AccountKind = flags.kind ?? (mac ? 'phone' : 'site');
    if (kind === 'phone' && !mac) throw usage('a phone account needs --phone MAC');
    if (kind !== 'phone' && mac) throw usage(`--phone binds only a phone account; this one is --kind ${kind}`);
    const { password, generated } = await passwordFrom(flags);
    await withState(flags, async (admin) => {
      if (tenant !== undefined && !(await admin.fleet.open()).tenants().some((t) => t.name === tenant)) {
        process.stderr.write(`polyprov: no tenant ${tenant}; add it first with "polyprov fleet tenants add ${tenant}"\n`);
        setExit(EXIT.problem);
        return;
      }
      const r = await admin.accounts.add(user, kind, password, mac, tenant);
      if (r.status === 'exists') {
        process.stderr.write(`polyprov: account ${user} exists; use "polyprov accounts passwd ${user}" to change its password\n`);
        setExit(EXIT.problem);
        return;
      }
      if (r.alsoBound) process.stderr.write(`polyprov: note: phone ${mac} is already bound to account ${r.alsoBound}\n`);
      report(flags, r.account, admin.realm, generated ? password : undefined, 'added');
    });
  });

  addStateOptions(
    accounts.command('list').description('list accounts (never their passwords or hashes)').option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<StateFlags>(cmd);
    await withState(flags, async (admin) => {
      const list = (await admin.accounts.list()).map((a) => accountView(a, admin.realm));
      if (flags.json) return printJson(list);
      process.stdout.write(
        textTable(
          ['USER', 'KIND', 'PHONE', 'TENANT', 'REALM', 'CREATED', 'STATE'],
          list.map((a) => [a.user, a.kind, a.phone, tenantOf(a), a.realm, isoSeconds(new Date(a.createdAt)), stateOf(a)]),
        ),
      );
    }, { readOnly: true });
  });

  addStateOptions(accounts.command('remove <user>').description('remove an account').option('--json', 'print JSON')).action(
    async (user: string, _o: unknown, cmd: Command) => {
      const flags = flagsOf<StateFlags>(cmd);
      await withState(flags, async (admin) => {
        const removed = (await admin.accounts.remove(user)) !== undefined;
        if (flags.json) printJson({ user, removed });
        else if (removed) process.stdout.write(`removed account ${user}\n`);
        if (!removed) {
          if (!flags.json) process.stderr.write(`polyprov: no account ${user}\n`);
          setExit(EXIT.problem);
        }
      });
    },
  );

  addStateOptions(
    accounts
      .command('passwd <user>')
      .description('set a new password (hashed for the current realm)')
      .option('--password-stdin', 'read the password from stdin (one line)')
      .option('--generate', 'generate a random password and print it once')
      .option('--json', 'print the result as JSON'),
  ).action(async (user: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<PasswordFlags>(cmd);
    const { password, generated } = await passwordFrom(flags);
    await withState(flags, async (admin) => {
      const a = await admin.accounts.passwd(user, password);
      if (!a) {
        process.stderr.write(`polyprov: no account ${user}; add it with "polyprov accounts add ${user}"\n`);
        setExit(EXIT.problem);
        return;
      }
      report(flags, a, admin.realm, generated ? password : undefined, 'changed the password of');
    });
  });
};

/** The account's tenant as shown: the default tenant when it names none. */
function tenantOf(a: AccountView): string {
  return a.tenant ?? DEFAULT_TENANT;
}

function stateOf(a: AccountView): string {
  if (!a.realmMatches) return 'other realm: run passwd';
  return a.pending ? 'pending' : 'active';
}

/** Prints the outcome; a generated password goes to stdout exactly once (alone on its line, for scripts). */
function report(flags: StateFlags, a: Account, realm: string, generatedPassword: string | undefined, verb: string): void {
  if (flags.json) {
    printJson({ ...accountView(a, realm), ...(generatedPassword !== undefined ? { password: generatedPassword } : {}) });
    return;
  }
  const what = `${verb} account ${a.user} (${a.kind}${a.mac ? `, phone ${a.mac}` : ''}${a.tenant ? `, tenant ${a.tenant}` : ''}, realm ${a.realm})`;
  if (generatedPassword !== undefined) {
    process.stderr.write(`${what}; its password follows, shown only this once\n`);
    process.stdout.write(`${generatedPassword}\n`);
  } else {
    process.stdout.write(`${what}\n`);
  }
}
