// `polyprov accounts add|list|remove|passwd`: provisioning accounts phones authenticate with
// (issue 4, Access policy). Only HA1 per realm is stored (RFC 7616 §3.4.2); a password enters by
// stdin or is generated, and is printed only by `--generate`, once, because that is its purpose.
import { randomInt } from 'node:crypto';
import { Command, Option } from 'commander';
import { parseMac } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import { makeAccount } from '../core/digest.ts';
import type { Account, AccountKind } from '../store/store.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage, withStore, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface PasswordFlags extends StateFlags {
  passwordStdin?: boolean;
  generate?: boolean;
}

interface AddFlags extends PasswordFlags {
  phone?: string;
  kind?: AccountKind;
}

/** Letters and digits only: phones take it from a config file or a keypad, and URLs need no escaping (SEED-AG Server Menu, RFC 1738). */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const GENERATED_LENGTH = 20;

export function generatePassword(): string {
  let s = '';
  for (let i = 0; i < GENERATED_LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
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

function checkUser(user: string): void {
  // RFC 7617 §2 (Basic: no ":" in the user-id) and RFC 7616 §3.4.2 (the HA1 input is user:realm:password).
  if (user === '' || user.includes(':') || /[\u0000-\u001f\u007f]/.test(user)) {
    throw usage(`account name ${JSON.stringify(user)} is not allowed`, 'Use a name without ":" or control characters.');
  }
}

/** What is shown of an account: never a hash. */
function publicView(a: Account, realm: string) {
  return {
    user: a.user,
    kind: a.kind,
    realm: a.realm,
    ...(a.mac ? { phone: a.mac } : {}),
    createdAt: a.createdAt.toISOString(),
    pending: a.pending === true,
    /** An account hashed for another realm cannot authenticate until its password is set again. */
    realmMatches: a.realm === realm,
  };
}

export const register: RegisterCommand = (program, setExit) => {
  const accounts = program.command('accounts').description('manage provisioning accounts (HTTP Basic/Digest and FTP logins for phones)');

  addStateOptions(
    accounts
      .command('add <user>')
      .description('add an account; the password comes from stdin or is generated and printed once')
      .option('--phone <mac>', 'bind the account to one phone (only it may use the account, and only it reaches that phone’s files)')
      .addOption(new Option('--kind <kind>', 'site: any phone; phone: one phone (--phone); staging: staging only').choices(['site', 'phone', 'staging']))
      .option('--password-stdin', 'read the password from stdin (one line)')
      .option('--generate', 'generate a random password and print it once')
      .option('--json', 'print the result as JSON'),
  ).action(async (user: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<AddFlags>(cmd);
    checkUser(user);
    let mac: Mac | undefined;
    if (flags.phone !== undefined) {
      mac = parseMac(flags.phone);
      if (!mac) throw usage(`--phone ${JSON.stringify(flags.phone)} is not a MAC address`, 'Write it as 0004f2000001 or 00:04:f2:00:00:01.');
    }
    const kind: AccountKind = flags.kind ?? (mac ? 'phone' : 'site');
    if (kind === 'phone' && !mac) throw usage('a phone account needs --phone MAC');
    if (kind !== 'phone' && mac) throw usage(`--phone binds only a phone account; this one is --kind ${kind}`);
    const { password, generated } = await passwordFrom(flags);
    await withStore(flags, async (store, opts) => {
      if (await store.accounts.get(user)) {
        process.stderr.write(`polyprov: account ${user} exists; use "polyprov accounts passwd ${user}" to change its password\n`);
        setExit(EXIT.problem);
        return;
      }
      if (mac) {
        const other = await store.accounts.forPhone(mac);
        if (other) process.stderr.write(`polyprov: note: phone ${mac} is already bound to account ${other.user}\n`);
      }
      const a = makeAccount(kind, user, password, opts.realm, mac);
      await store.accounts.put(a);
      report(flags, a, opts.realm, generated ? password : undefined, 'added');
    });
  });

  addStateOptions(
    accounts.command('list').description('list accounts (never their passwords or hashes)').option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<StateFlags>(cmd);
    await withStore(flags, async (store, opts) => {
      const list = (await store.accounts.list()).map((a) => publicView(a, opts.realm));
      if (flags.json) return printJson(list);
      process.stdout.write(
        textTable(
          ['USER', 'KIND', 'PHONE', 'REALM', 'CREATED', 'STATE'],
          list.map((a) => [a.user, a.kind, a.phone, a.realm, isoSeconds(new Date(a.createdAt)), stateOf(a)]),
        ),
      );
    });
  });

  addStateOptions(accounts.command('remove <user>').description('remove an account').option('--json', 'print JSON')).action(
    async (user: string, _o: unknown, cmd: Command) => {
      const flags = flagsOf<StateFlags>(cmd);
      await withStore(flags, async (store) => {
        const removed = await store.accounts.remove(user);
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
    await withStore(flags, async (store, opts) => {
      const old = await store.accounts.get(user);
      if (!old) {
        process.stderr.write(`polyprov: no account ${user}; add it with "polyprov accounts add ${user}"\n`);
        setExit(EXIT.problem);
        return;
      }
      const a: Account = { ...makeAccount(old.kind, user, password, opts.realm, old.mac), createdAt: old.createdAt };
      if (old.pending) a.pending = true;
      await store.accounts.put(a);
      report(flags, a, opts.realm, generated ? password : undefined, 'changed the password of');
    });
  });
};

function stateOf(a: ReturnType<typeof publicView>): string {
  if (!a.realmMatches) return 'other realm: run passwd';
  return a.pending ? 'pending' : 'active';
}

/** Prints the outcome; a generated password goes to stdout exactly once (alone on its line, for scripts). */
function report(flags: StateFlags, a: Account, realm: string, generatedPassword: string | undefined, verb: string): void {
  if (flags.json) {
    printJson({ ...publicView(a, realm), ...(generatedPassword !== undefined ? { password: generatedPassword } : {}) });
    return;
  }
  const what = `${verb} account ${a.user} (${a.kind}${a.mac ? `, phone ${a.mac}` : ''}, realm ${a.realm})`;
  if (generatedPassword !== undefined) {
    process.stderr.write(`${what}; its password follows, shown only this once\n`);
    process.stdout.write(`${generatedPassword}\n`);
  } else {
    process.stdout.write(`${what}\n`);
  }
}
