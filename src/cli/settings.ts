// `polyprov settings set|unset|show SCOPE …` (issue 14, CLI): Polycom parameters set at a managed
// scope — `global`, `tenant:T`, `site:S` (or `site:T/S`), `group:G` (`group:T/G`), `phone:MAC`.
// Each value is checked against the parameter catalogue by the fleet service (unknown name →
// refused with the nearest one; type and range checked) before anything is stored, and the change
// goes to the change record with who made it. A secret (a password or key parameter) is sealed by
// the service; it enters by stdin (`NAME --value-stdin`) so it never sits in the shell history,
// and is never printed: `show` and `--json` give `{"set": true}`. `--notify` then sends check-sync
// to the phones whose effective configuration changed, through the notify command's code (paced
// as `polyprov notify` is).
import type { Command } from 'commander';
import { DEFAULT_TENANT, type Scope } from '../domain.ts';
import { formatScope } from '../fleet/scope.ts';
import { addStateOptions, type ServerOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { scopeArg, shownValue, withFleet } from './fleet-common.ts';
import { runNotify } from './notify.ts';
import { DEFAULT_JITTER_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_RATE_PER_SEC } from '../sip/bulk.ts';
import { flagsOf, printJson, usage, type StateFlags } from './state-store.ts';
import { textTable } from './text-table.ts';

interface SetFlags extends StateFlags {
  tenant?: string;
  notify?: boolean;
  valueStdin?: boolean;
  rate?: string;
  root?: string;
}

const MAX_STDIN = 64 * 1024;

async function readValue(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > MAX_STDIN) throw usage(`the value on stdin is over ${MAX_STDIN} bytes`);
    chunks.push(b);
  }
  // One value; the newline a shell pipeline adds is not part of it.
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw usage('the value on stdin spans several lines; give one line');
  return text;
}

/** `NAME=VALUE` pairs (the value may hold `=`); a bare NAME only with --value-stdin. */
async function valuesFrom(args: string[], flags: SetFlags): Promise<Record<string, string>> {
  if (args.length === 0) throw usage('no setting given', 'Write NAME=VALUE (several allowed), or one NAME with --value-stdin.');
  const values: Record<string, string> = {};
  if (flags.valueStdin) {
    if (args.length !== 1 || args[0]!.includes('=')) throw usage('--value-stdin sets one parameter: give its NAME alone', 'printf %s "$PW" | polyprov settings set phone:0004f2000001 reg.1.auth.password --value-stdin');
    values[args[0]!] = await readValue();
    return values;
  }
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw usage(`"${a}" is not NAME=VALUE`, 'Give NAME=VALUE, or one NAME with --value-stdin (for passwords).');
    const name = a.slice(0, eq);
    if (name in values) throw usage(`${name} is given twice`);
    values[name] = a.slice(eq + 1);
  }
  return values;
}

export const register: RegisterCommand = (program, setExit) => {
  const settings = program.command('settings').description('managed settings: Polycom parameters at a scope (global, tenant:T, site:S, group:G, phone:MAC)');

  addStateOptions(
    settings
      .command('set <scope> <settings...>')
      .description('set parameters at a scope: NAME=VALUE…, or NAME --value-stdin for a secret; checked against the parameter catalogue first, all or nothing')
      .option('--tenant <tenant>', `the tenant of site:S and group:G scopes (default: ${DEFAULT_TENANT}; or write site:T/S)`)
      .option('--value-stdin', 'read the one value from stdin (for passwords: never on the command line)')
      .option('--notify', 'then send check-sync to the phones whose effective configuration changed (paced as polyprov notify)')
      .option('--rate <n/s>', 'with --notify: NOTIFYs started per second', `${DEFAULT_RATE_PER_SEC}/s`)
      .option('--root <dir>', 'with --notify: the provisioning tree, for the phones\' SIP line and port (default: from the options file, else ./site)')
      .option('--json', 'print JSON (the changes, secrets as {"set":true}, and the phones affected)'),
  ).action(async (scopeText: string, args: string[], _o: unknown, cmd: Command) => {
    const flags = flagsOf<SetFlags>(cmd);
    const scope = scopeArg(scopeText, flags.tenant);
    const values = await valuesFrom(args, flags);
    await change(flags, setExit, { op: 'settings.set', scope, values });
  });

  addStateOptions(
    settings
      .command('unset <scope> <names...>')
      .description('remove parameters from a scope (lower scopes, then the tree, decide again)')
      .option('--tenant <tenant>', `the tenant of site:S and group:G scopes (default: ${DEFAULT_TENANT})`)
      .option('--notify', 'then send check-sync to the phones whose effective configuration changed')
      .option('--rate <n/s>', 'with --notify: NOTIFYs started per second', `${DEFAULT_RATE_PER_SEC}/s`)
      .option('--root <dir>', 'with --notify: the provisioning tree, for the phones\' SIP line and port (default: from the options file, else ./site)')
      .option('--json', 'print JSON'),
  ).action(async (scopeText: string, names: string[], _o: unknown, cmd: Command) => {
    const flags = flagsOf<SetFlags>(cmd);
    const scope = scopeArg(scopeText, flags.tenant);
    await change(flags, setExit, { op: 'settings.unset', scope, names });
  });

  addStateOptions(
    settings
      .command('show <scope>')
      .description('the parameters set at one scope (secrets shown as set, never in clear)')
      .option('--tenant <tenant>', `the tenant of site:S and group:G scopes (default: ${DEFAULT_TENANT})`)
      .option('--json', 'print JSON: [{"name":…,"value":… or {"set":true}}]'),
  ).action(async (scopeText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<SetFlags>(cmd);
    const scope = scopeArg(scopeText, flags.tenant);
    await withFleet(setExit, flags, async (admin) => {
      const list = [...(await admin.fleet.settings(scope))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (flags.json) return printJson(list);
      if (list.length === 0) return void process.stdout.write(`nothing set at ${formatScope(scope)}\n`);
      process.stdout.write(textTable(['NAME', 'VALUE'], list.map((s) => [s.name, typeof s.value === 'string' ? JSON.stringify(s.value) : shownValue(s.value)])));
    }, { readOnly: true });
  });
};

type Change = { op: 'settings.set'; scope: Scope; values: Record<string, string> } | { op: 'settings.unset'; scope: Scope; names: string[] };

async function change(flags: SetFlags, setExit: (code: number) => void, command: Change): Promise<void> {
  let opts: Readonly<ServerOptions> | undefined;
  const r = await withFleet(
    setExit,
    flags,
    async (admin, o) => {
      opts = o;
      return admin.fleet.apply([command]);
    },
    flags.root !== undefined ? { root: flags.root } : {},
  );
  if (!r) return;
  const where = formatScope(command.scope);
  if (flags.json) printJson({ scope: where, changes: r.changes, affected: r.affected, generation: r.generation });
  else {
    const n = r.changes.length;
    process.stdout.write(`${where}: ${n === 0 ? 'nothing changed' : `${n} change${n === 1 ? '' : 's'} recorded`}; ${r.affected.length} phone${r.affected.length === 1 ? '' : 's'} affected\n`);
  }
  if (!flags.notify) return;
  if (r.affected.length === 0) {
    process.stderr.write('polyprov settings: --notify: no phone\'s effective configuration changed; nothing sent\n');
    return;
  }
  // The notify command's own code: MAC targets resolved through the inventory, paced the same way.
  const notifyFlags: Parameters<typeof runNotify>[1] = {
    transport: 'udp',
    rate: flags.rate ?? `${DEFAULT_RATE_PER_SEC}/s`,
    jitter: String(DEFAULT_JITTER_MS),
    t1: '500',
    confirmTimeout: '0',
    maxInFlight: String(DEFAULT_MAX_IN_FLIGHT),
    pushScheme: 'https',
    ...(flags.json ? { json: true } : {}),
    ...(flags.data !== undefined ? { data: flags.data } : {}),
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(opts ? { root: opts.root } : {}),
  };
  const code = await runNotify(r.affected, notifyFlags);
  if (code !== EXIT.ok) setExit(code);
}
