// `polyprov fleet …` (issue 14, CLI): the managed fleet as data — import and export of the CSV
// (`mac`, `model`, `label`, `tenant`, `site`, `groups`, then Polycom parameter columns set at the
// phone's scope), and phones one at a time: list, show, add, remove, replace. Tenants, sites and
// groups are in fleet-names.ts. Every change goes through the core's admin service
// (AdminService.fleet), which validates it all first, applies it in one transaction and writes
// the change record with who made it; this file parses flags and prints. Secrets never reach the
// output: the service answers them as `{"set": true}`, and explain-style values are masked here.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { normalizeModel } from '../config/models.ts';
import { ProvError } from '../errors.ts';
import type { PhoneInput } from '../fleet/types.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { registerNames } from './fleet-names.ts';
import { managedPhoneJson, maskedEffective, withFleet } from './fleet-common.ts';
import { flagsOf, macArg, printJson, usage, type StateFlags } from './state-store.ts';
import { textTable } from './text-table.ts';

interface ImportFlags extends StateFlags {
  dryRun?: boolean;
  create?: boolean;
}
interface ExportFlags extends StateFlags {
  tenant?: string;
  withSecrets?: boolean;
}
interface ListFlags extends StateFlags {
  tenant?: string;
  site?: string;
  group?: string;
}
interface AddFlags extends StateFlags {
  model?: string;
  tenant?: string;
  site?: string;
  group?: string[];
  label?: string;
  create?: boolean;
}

function modelArg(m: string): string {
  const model = normalizeModel(m);
  if (!model) throw usage(`--model "${m}" is not a known model`, 'Use a master-file token such as SPIP650, SSIP6000, VVX410 or Trio8800.');
  return model;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const register: RegisterCommand = (program, setExit) => {
  const fleet = program.command('fleet').description('the managed fleet: import/export the phones CSV, list, show, add, remove and replace phones, tenants, sites and groups');

  addStateOptions(
    fleet
      .command('import <file>')
      .description('import phones and their phone-scope settings from a CSV file (header: mac, model, label, tenant, site, groups, then parameter columns); all rows are checked first: any bad row → every error as FILE:LINE: column: message, exit 1, nothing applied')
      .option('--dry-run', 'check and count, change nothing')
      .option('--create', 'create the tenants, sites and groups the file names that do not exist (without it such a row is refused)')
      .option('--json', 'print {"added":N,"changed":N,"unchanged":N} (with "errors":[…] when refused)'),
  ).action(async (file: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<ImportFlags>(cmd);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw usage(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'Give the path of a CSV file.');
    }
    await withFleet(setExit, flags, async (admin) => {
      const r = await admin.fleet.importCsv(bytes, file, { dryRun: flags.dryRun === true, create: flags.create === true });
      if (r.errors.length > 0) {
        for (const e of r.errors) process.stderr.write(`${e}\n`);
        process.stderr.write(`polyprov fleet import: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'} in ${file}; nothing applied\n`);
        if (flags.json) printJson({ added: 0, changed: 0, unchanged: 0, errors: r.errors });
        setExit(EXIT.problem);
        return;
      }
      const counts = { added: r.added, changed: r.changed, unchanged: r.unchanged };
      if (flags.json) return printJson(flags.dryRun ? { ...counts, dryRun: true } : counts);
      const verb = flags.dryRun ? 'would be ' : '';
      process.stdout.write(`${file}: ${r.added} ${verb}added, ${r.changed} ${verb}changed, ${r.unchanged} unchanged${flags.dryRun ? ' (dry run: nothing applied)' : ''}\n`);
    });
  });

  addStateOptions(
    fleet
      .command('export')
      .description('print the fleet as the CSV import reads (secrets blank unless --with-secrets); export then import changes nothing')
      .option('--tenant <tenant>', 'only this tenant\'s phones')
      .option('--with-secrets', 'include passwords and keys in clear (handle the output as a secret)')
      .option('--json', 'print the rows as JSON objects (column → value) instead of CSV'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<ExportFlags>(cmd);
    await withFleet(setExit, flags, async (admin) => {
      const csv = await admin.fleet.exportCsv({ ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}), withSecrets: flags.withSecrets === true });
      if (flags.json) return printJson(await csvObjects(csv));
      process.stdout.write(csv);
    }, { readOnly: true });
  });

  addStateOptions(
    fleet
      .command('list')
      .description('list managed phones')
      .option('--tenant <tenant>', 'only this tenant')
      .option('--site <site>', 'only this site')
      .option('--group <group>', 'only phones in this group')
      .option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<ListFlags>(cmd);
    await withFleet(setExit, flags, async (admin) => {
      const list = await admin.fleet.phones({
        ...(flags.tenant !== undefined ? { tenant: flags.tenant } : {}),
        ...(flags.site !== undefined ? { site: flags.site } : {}),
        ...(flags.group !== undefined ? { group: flags.group } : {}),
      });
      if (flags.json) return printJson(list.map(managedPhoneJson));
      process.stdout.write(textTable(['MAC', 'TENANT', 'MODEL', 'SITE', 'GROUPS', 'LABEL'], list.map((p) => [p.mac, p.tenant, p.model, p.site, p.groups.join(';'), p.label])));
    }, { readOnly: true });
  });

  addStateOptions(
    fleet
      .command('show <mac>')
      .description("one managed phone: its record and its effective managed settings, with the scope that set each and what it shadowed (secrets masked)")
      .option('--json', 'print JSON'),
  ).action(async (macText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<StateFlags>(cmd);
    const mac = macArg(macText);
    await withFleet(setExit, flags, async (admin) => {
      const phone = await admin.fleet.phone(mac);
      if (!phone) {
        process.stderr.write(`polyprov: ${mac} is not a managed phone; add it with "polyprov fleet add ${mac} --model MODEL"\n`);
        setExit(EXIT.problem);
        return;
      }
      const effective = (await admin.fleet.effective(mac)).map((e) => maskedEffective(e));
      if (flags.json) return printJson({ phone: managedPhoneJson(phone), effective });
      const lines = [
        `phone    ${phone.mac}${phone.model ? ` ${phone.model}` : ''}${phone.label ? ` "${phone.label}"` : ''}`,
        `tenant   ${phone.tenant}`,
        `site     ${phone.site ?? '-'}`,
        `groups   ${phone.groups.length ? phone.groups.join(', ') : '-'}`,
        '',
        `effective managed settings (${effective.length}; scope that set each, highest precedence: phone, groups in order, site, tenant, global)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (effective.length) {
        process.stdout.write(
          textTable(['NAME', 'VALUE', 'SCOPE', 'SHADOWS'], effective.map((e) => [e.name, JSON.stringify(e.value), e.scope, e.shadowed.map((s) => `${s.scope}=${JSON.stringify(s.value)}`).join(', ')])),
        );
      }
    }, { readOnly: true });
  });

  addStateOptions(
    fleet
      .command('add <mac>')
      .description('add a managed phone (or change the fields given of one already managed)')
      .option('--model <model>', 'model token: SPIP650, VVX410, …')
      .option('--tenant <tenant>', 'its tenant (default: the default tenant)')
      .option('--site <site>', 'its site')
      .option('--group <group>', 'a group, repeat for several (in precedence order, highest first)', collect)
      .option('--label <label>', 'a free-text label')
      .option('--create', 'create the tenant, site or groups named when they do not exist')
      .option('--json', 'print JSON'),
  ).action(async (macText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<AddFlags>(cmd);
    const mac = macArg(macText);
    const phone: PhoneInput = { mac };
    if (flags.model !== undefined) phone.model = modelArg(flags.model);
    if (flags.tenant !== undefined) phone.tenant = flags.tenant;
    if (flags.site !== undefined) phone.site = flags.site;
    if (flags.group !== undefined) phone.groups = flags.group;
    if (flags.label !== undefined) phone.label = flags.label;
    await withFleet(setExit, flags, async (admin) => {
      const existed = (await admin.fleet.phone(mac)) !== undefined;
      const r = await admin.fleet.apply([{ op: 'phone.put', phone }], { create: flags.create === true });
      const outcome = r.changes.length === 0 ? 'unchanged' : existed ? 'changed' : 'added';
      if (flags.json) return printJson({ mac, outcome, changes: r.changes });
      process.stdout.write(`${outcome} managed phone ${mac}\n`);
    });
  });

  addStateOptions(fleet.command('remove <mac>').description('stop managing a phone (its phone-scope settings go with it)').option('--json', 'print JSON')).action(
    async (macText: string, _o: unknown, cmd: Command) => {
      const flags = flagsOf<StateFlags>(cmd);
      const mac = macArg(macText);
      await withFleet(setExit, flags, async (admin) => {
        if ((await admin.fleet.phone(mac)) === undefined) {
          if (flags.json) printJson({ mac, removed: false });
          else process.stderr.write(`polyprov: ${mac} is not a managed phone\n`);
          setExit(EXIT.problem);
          return;
        }
        await admin.fleet.apply([{ op: 'phone.remove', mac }]);
        if (flags.json) return printJson({ mac, removed: true });
        process.stdout.write(`removed managed phone ${mac}\n`);
      });
    },
  );

  addStateOptions(
    fleet
      .command('replace <old-mac> <new-mac>')
      .description("a broken phone swapped: the old phone's settings, contact directory and call lists move to the new MAC; the old MAC's account is removed (the new phone enrols through staging); history is kept")
      .option('--json', 'print JSON'),
  ).action(async (oldText: string, newText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<StateFlags>(cmd);
    const from = macArg(oldText, 'OLD_MAC');
    const to = macArg(newText, 'NEW_MAC');
    if (from === to) throw usage('the old and the new MAC are the same');
    await withFleet(setExit, flags, async (admin) => {
      const r = await admin.fleet.replace(from, to);
      if (flags.json) return printJson({ from, to, changes: r.changes });
      process.stdout.write(`replaced ${from} by ${to} (${r.changes.length} change${r.changes.length === 1 ? '' : 's'} recorded; see polyprov changes --target ${to})\n`);
    });
  });

  registerNames(fleet, setExit);
};

/** CSV text → one object per row (column → cell), for `export --json`. */
async function csvObjects(csv: string): Promise<Array<Record<string, string>>> {
  const { parse } = await import('csv-parse/sync');
  try {
    return parse(csv, { columns: true, bom: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  } catch (err) {
    throw new ProvError('PP_INTERNAL', `the exported CSV did not parse back: ${(err as Error).message}`);
  }
}
