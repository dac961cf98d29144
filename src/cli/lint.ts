// `polyprov lint ROOT [--json]`: what would break or endanger phones in a provisioning tree,
// before they fetch it (issue 3, The linter). Compiler-style lines
//   file:line:col: severity CODE message. hint
// and a summary; `--json` prints one array of {severity, code, file, line, column, message}.
// Exit 1 when any error, else 0; 2 for usage errors. With `--data DIR` (or `--config`) lint also
// reads the managed fleet from that state and warns when managed phones would read a master file
// that does not list managed/[PHONE_MAC_ADDRESS].cfg (issue 14, Serving: PP_CFG_MANAGED_NOT_LISTED).
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { isProvError, ProvError } from '../errors.ts';
import { lintTree, summarize, type LintOptions } from '../config/lint/index.ts';
import { normalizeModel } from '../config/models.ts';
import { TreeFiles } from '../config/tree-source.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { withState } from './state-store.ts';

interface LintFlags {
  json?: boolean;
  model?: string;
  quiet?: boolean;
  data?: string;
  config?: string;
}

export interface LintJsonFinding {
  severity: 'error' | 'warning' | 'info';
  code: string;
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:col: severity CODE message. hint` — ProvError.format() with the severity. */
export function formatFinding(e: ProvError): string {
  let where = '';
  if (e.file) where = `${e.file}:${e.line ?? 1}:${e.column ?? 1}: `;
  return `${where}${e.severity} ${e.code} ${messageWithHint(e)}`;
}

/** The message, then what to do: "… over 255 (…). Shorten the path …" (STYLE §4). */
function messageWithHint(e: ProvError): string {
  if (!e.hint) return e.message;
  return `${e.message}${/[.!?]$/.test(e.message) ? '' : '.'} ${e.hint}`;
}

export function toJsonFinding(e: ProvError): LintJsonFinding {
  return {
    severity: e.severity,
    code: e.code,
    file: e.file ?? '',
    line: e.line ?? 0,
    column: e.column ?? 0,
    message: messageWithHint(e),
  };
}

/** The managed phones of the state the flags name, for the managed-file rule; none without --data/--config. */
async function managedPhones(flags: LintFlags, root: string): Promise<LintOptions['managed']> {
  if (flags.data === undefined && flags.config === undefined) return undefined;
  return withState(
    { data: flags.data, config: flags.config },
    async (admin) => {
      try {
        return (await admin.fleet.open()).phones({}).map((p) => ({ mac: p.mac, tenant: p.tenant, ...(p.model ? { model: p.model } : {}) }));
      } catch (e) {
        // No usable secret key: the fleet cannot be opened; the tree is still linted, and lint says what it left out.
        if (!isProvError(e) || (e.code !== 'PP_FLEET_KEY_MISSING' && e.code !== 'PP_FLEET_KEY_MISMATCH')) throw e;
        process.stderr.write(`polyprov lint: managed phones not checked: ${e.message}\n`);
        return undefined;
      }
    },
    { readOnly: true, root },
  );
}

export const register: RegisterCommand = (program: Command, setExit) => {
  addStateOptions(program
    .command('lint'))
    .description('check a provisioning tree for what would break or endanger phones: XML, missing files, unknown parameters and bad values, shadowed values, device.* without .set, security, contact directories')
    .argument('<root>', 'provisioning tree (the directory the boot server serves)')
    .option('--json', 'print one JSON array of {severity, code, file, line, column, message}')
    .option('--model <model>', 'model to assume for phones the tree does not name (contact-directory size limits)')
    .option('-q, --quiet', 'print errors only (the summary still counts everything)')
    .action(async (root: string, flags: LintFlags) => {
      let model: string | undefined;
      if (flags.model !== undefined) {
        model = normalizeModel(flags.model);
        if (!model) throw new ProvError('PP_USAGE', `--model "${flags.model}" is not a known model; use a master-file token such as SPIP650, SSIP6000, VVX410 or Trio8800`);
      }
      const st = await stat(root).catch(() => null);
      if (!st?.isDirectory()) throw new ProvError('PP_USAGE', `${root} is not a directory; give the provisioning tree the boot server serves`);

      const managed = await managedPhones(flags, root);
      const findings = await lintTree(new TreeFiles(root), { ...(model ? { model } : {}), ...(managed ? { managed } : {}) });
      const s = summarize(findings);
      if (flags.json) {
        process.stdout.write(JSON.stringify(findings.map(toJsonFinding), null, 2) + '\n');
      } else {
        const shown = flags.quiet ? findings.filter((f) => f.severity === 'error') : findings;
        let text = '';
        for (const f of shown) text += formatFinding(f) + '\n';
        text += `${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${s.infos} info\n`;
        process.stdout.write(text);
      }
      setExit(s.errors > 0 ? EXIT.problem : EXIT.ok);
    });
};
