// `polyprov explain ROOT --mac MAC`: what one phone ends up with from a provisioning tree and the
// phone's stored uploads — master file and why, image, CONFIG_FILES, directories, where each
// upload goes, contact directory, which stored uploads are served and why, and every effective
// parameter with the file and line (or the upload) that set it and the values it shadowed
// (issue 3; issue 13 items 2 and 3). State is read through the core (open-core.ts), like every
// state command: `--data`/`--config`, the same defaults. With a managed fleet in that state, the
// parameters its managed/<MAC>.cfg sets show the scope that set each (`site:hq`) and the managed
// values they shadowed (issue 14), secrets masked like every value.
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { ProvError } from '../errors.ts';
import { displayValue, isManagedFile, managedScope, SECRET_MASK, toExplainJson, uploadSource, type ManagedExplained, type StoredUploadView } from '../config/explain-json.ts';
import { maskUrlCredentials } from '../config/master-file.ts';
import { modelForPart, normalizeModel, parseMac, partNumberFor } from '../config/models.ts';
import type { Resolution } from '../config/resolver.ts';
import { TreeFiles } from '../config/tree-source.ts';
import { explainWithState } from '../core/open-core.ts';
import type { Explained } from '../core/explain.ts';
import { addStateOptions, loadServerOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';

interface ExplainFlags {
  mac?: string;
  model?: string;
  part?: string;
  master?: string;
  param?: string;
  json?: boolean;
  showSecrets?: boolean;
  data?: string;
  config?: string;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  addStateOptions(program
    .command('explain'))
    .description("show what one phone gets from a provisioning tree: master file, image, CONFIG_FILES, directories, contact directory and every parameter with where it came from")
    .argument('<root>', 'provisioning tree (the directory the boot server serves)')
    .requiredOption('--mac <mac>', 'the phone MAC (0004f2000001, 00:04:f2:00:00:01, …)')
    .option('--model <model>', 'model token such as SPIP650, VVX410 (SPIP_650 also accepted)')
    .option('--part <part>', 'part number such as 2345-12600-001 (default: from the model)')
    .option('--master <path>', "the boot-server address's path: a named master file (dir/example1.cfg) or a directory (tenant1/)")
    .option('--param <name>', 'show only this parameter (exit 1 when the phone does not get it)')
    .option('--json', 'print one JSON object')
    .option('--show-secrets', 'print passwords and keys instead of ********')
    .action(async (root: string, flags: ExplainFlags) => {
      const mac = parseMac(flags.mac ?? '');
      if (!mac) throw usage(`--mac "${flags.mac}" is not a MAC address; give 12 hex digits such as 0004f2000001 or 00:04:f2:00:00:01`);
      let model: string | undefined;
      if (flags.model !== undefined) {
        model = normalizeModel(flags.model);
        if (!model) throw usage(`--model "${flags.model}" is not a known model; use a master-file token such as SPIP650, SSIP6000, VVX410 or Trio8800`);
      }
      const part = flags.part?.trim();
      if (part !== undefined && !/^\d{4}-\d{5}-\d{3}$/.test(part)) throw usage(`--part "${flags.part}" is not a part number like 2345-12600-001`);
      if (!model && part) model = modelForPart(part);
      const st = await stat(root).catch(() => null);
      if (!st?.isDirectory()) throw usage(`${root} is not a directory; give the provisioning tree the boot server serves`);

      const options = loadServerOptions({ data: flags.data, config: flags.config, root });
      const ex = await explainWithState(
        options,
        new TreeFiles(root),
        { mac, ...(model ? { model } : {}), ...(part ?? (model && partNumberFor(model)) ? { partNumber: part ?? partNumberFor(model!)! } : {}) },
        flags.master ? { masterName: flags.master } : {},
      );
      const r = ex.resolution;
      const showSecrets = flags.showSecrets === true;

      if (flags.param !== undefined && !r.params.has(flags.param)) {
        process.stderr.write(`polyprov explain: ${flags.param} is not set for ${mac}${r.master ? ` (master file ${r.master.file})` : ''}; the phone uses its built-in default\n`);
        setExit(EXIT.problem);
        if (!flags.json) return;
      }
      if (flags.json) {
        const json = toExplainJson(r, { showSecrets, stored: ex.stored, note: ex.note, ...(ex.managed ? { managed: ex.managed } : {}) });
        if (flags.param !== undefined) json.params = flags.param in json.params ? { [flags.param]: json.params[flags.param]! } : {};
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        process.stdout.write(flags.param !== undefined ? renderParam(ex, flags.param, showSecrets) : render(ex, showSecrets));
      }
      if (flags.param === undefined || r.params.has(flags.param)) setExit(EXIT.ok);
    });
};

function usage(message: string): ProvError {
  return new ProvError('PP_USAGE', message);
}

const shown = (s: string) => (s === '' ? '(root)' : maskUrlCredentials(s));

function render(ex: Explained, showSecrets: boolean): string {
  const r = ex.resolution;
  const lines: string[] = [];
  const p = r.phone;
  lines.push(`phone        ${p.mac}${p.model ? ` ${p.model}` : ''}${p.partNumber ? ` (${p.partNumber})` : ''}`);
  lines.push(`master file  ${r.master ? `${r.master.file} — ${r.master.reason}` : 'none found (no <MAC>.cfg, no 000000000000.cfg)'}`);
  lines.push(`application  ${r.application === null ? (r.master ? 'none (APP_FILE_PATH is empty)' : '-') : shown(r.application)}`);
  lines.push('config files' + (r.configFiles.length ? '' : '  none'));
  for (const c of r.configFiles) {
    const state = c.url ? 'url, not checked' : !c.found ? (isManagedFile(c.name) ? 'rendered by polyprov from its fleet; no fleet state read' : 'MISSING') : c.encrypted ? 'encrypted, not read' : 'found';
    lines.push(`  ${shown(c.name)}  (${state})`);
  }
  const d = r.directories;
  lines.push(`directories  logs=${shown(d.logs)}  overrides=${shown(d.overrides)}  contacts=${shown(d.contacts)}  licenses=${shown(d.licenses)}  calls=${shown(d.callLists)}`);
  lines.push(`contacts     ${r.directory === null ? 'none' : shown(r.directory)}`);
  lines.push(...renderStored(ex));
  if (ex.managed) lines.push(renderManaged(r, ex.managed));
  lines.push('');
  const names = [...r.params.keys()].sort();
  lines.push(`parameters (${names.length}; highest precedence first: <MAC>-phone.cfg, <MAC>-web.cfg, CONFIG_FILES left to right)`);
  const rows = names.map((n) => {
    const e = r.params.get(n)!;
    const m = managedScope(n, e.source.file, ex.managed);
    const shadows = e.shadowed.length + (m ? m.shadowed.length : 0);
    const notes = [
      m?.shadowed.length ? `shadows ${m.shadowed.map((s) => s.scope).join(', ')}` : '',
      e.shadowed.length ? `shadows ${m?.shadowed.length ? `${e.shadowed.length} in files` : shadows}` : '',
      e.applied ? '' : `NOT APPLIED: ${e.reason ?? ''}`,
    ].filter(Boolean).join('; ');
    return [n, JSON.stringify(shownValue(n, e.value, showSecrets, m?.secret)), `${sourceOf(e.source, ex.stored)}${m ? ` (${m.scope})` : ''}`, notes];
  });
  const widths = [0, 1, 2].map((i) => Math.min(60, Math.max(0, ...rows.map((row) => row[i]!.length))));
  for (const row of rows) lines.push(`  ${row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd()}`);
  if (r.problems.length) {
    lines.push('');
    lines.push('problems');
    for (const e of r.problems) lines.push(`  ${e.format()}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Stored uploads: which is served and why; locked parameters stripped (issue 13 items 2 and 3). */
function renderStored(ex: Explained): string[] {
  if (ex.stored === null) return [`stored       ${ex.note ?? 'no stored uploads included'}`];
  if (ex.stored.length === 0) return ['stored       none'];
  const out = ['stored'];
  for (const u of ex.stored) {
    out.push(`  ${u.path}  v${u.version}  ${u.served ? 'SERVED' : 'not served'}: ${u.why}`);
    if (u.stripped.length) out.push(`    stripped (lockedParams, not served to the phone): ${u.stripped.join(', ')}`);
  }
  return out;
}

function sourceOf(pos: { file: string; line: number; column?: number }, stored: readonly StoredUploadView[] | null, column = false): string {
  const at = `${pos.file}:${pos.line}${column && pos.column !== undefined ? `:${pos.column}` : ''}`;
  const up = uploadSource(pos.file, stored);
  return up ? `${up} (${at})` : at;
}

/** A value as shown: a managed secret (the fleet's own flag) or a secret parameter masked unless asked. */
function shownValue(name: string, value: string, showSecrets: boolean, managedSecret = false): string {
  return managedSecret && !showSecrets ? SECRET_MASK : displayValue(name, value, showSecrets);
}

/** `managed      tenant acme, managed; managed/<MAC>.cfg listed in CONFIG_FILES` (issue 14). */
function renderManaged(r: Resolution, m: ManagedExplained): string {
  const entry = r.configFiles.find((c) => !c.url && isManagedFile(c.name));
  const who = `tenant ${m.tenant}, ${m.managed ? `managed (${m.settings.size} setting${m.settings.size === 1 ? '' : 's'})` : 'not managed (its managed file is empty)'}`;
  if (entry) return `managed      ${who}; ${entry.name} read at position ${r.configFiles.indexOf(entry) + 1} of CONFIG_FILES`;
  return `managed      ${who}; the master file does not list managed/[PHONE_MAC_ADDRESS].cfg, so ${m.managed ? 'its managed settings are NOT read' : 'nothing managed reaches it'}`;
}

function renderParam(ex: Explained, name: string, showSecrets: boolean): string {
  const r: Resolution = ex.resolution;
  const e = r.params.get(name)!;
  const m = managedScope(name, e.source.file, ex.managed);
  const lines = [`${name} = ${JSON.stringify(shownValue(name, e.value, showSecrets, m?.secret))}  (${sourceOf(e.source, ex.stored, true)}${m ? `, scope ${m.scope}` : ''})`];
  if (!e.applied) lines.push(`  not applied: ${e.reason ?? ''}`);
  for (const s of m?.shadowed ?? []) lines.push(`  shadows ${JSON.stringify(shownValue(name, s.value, showSecrets, m?.secret))}  (scope ${s.scope})`);
  for (const s of e.shadowed) lines.push(`  shadows ${JSON.stringify(shownValue(name, s.value, showSecrets, m?.secret))}  (${sourceOf(s.source, ex.stored, true)})`);
  return `${lines.join('\n')}\n`;
}
