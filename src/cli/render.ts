// `polyprov render --out DIR [--tenant T]` (issue 14, CLI): write the tree one tenant is served as
// a classic static provisioning tree — master file, `managed/<MAC>.cfg` per managed phone, the
// shared tree files — that any plain FTP/TFTP/HTTP server can serve and `polyprov lint` passes.
// The work is the core's (src/core/render-tree.ts); this file parses flags and prints.
import type { Command } from 'commander';
import { renderTree } from '../core/render-tree.ts';
import { DEFAULT_TENANT } from '../domain.ts';
import { checkFleetName } from '../fleet/scope.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { withFleet } from './fleet-common.ts';
import { flagsOf, printJson, type StateFlags } from './state-store.ts';

interface RenderFlags extends StateFlags {
  out: string;
  tenant?: string;
  root?: string;
  force?: boolean;
}

export const register: RegisterCommand = (program, setExit) => {
  addStateOptions(
    program
      .command('render')
      .description('write a tenant\'s served tree as a static tree a plain FTP/TFTP/HTTP server can serve: its master file, managed/<MAC>.cfg per managed phone (secrets included: protect DIR), and the shared files')
      .requiredOption('--out <dir>', 'directory to write (absent or empty)')
      .option('--tenant <tenant>', `the tenant to render (default: ${DEFAULT_TENANT})`)
      .option('--root <dir>', 'the provisioning tree (default: from the options file, else ./site)')
      .option('--force', 'write into a non-empty directory, replacing files of the same name')
      .option('--json', 'print JSON: {"out":…,"tenant":…,"copied":N,"managed":N,"master":"tree"|"default"}'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<RenderFlags>(cmd);
    const tenant = flags.tenant === undefined ? DEFAULT_TENANT : checkFleetName('tenant', flags.tenant);
    await withFleet(
      setExit,
      flags,
      async (admin, opts) => {
        if (tenant !== DEFAULT_TENANT && !(await admin.fleet.tenants()).some((t) => t.name === tenant)) {
          process.stderr.write(`polyprov: no tenant ${tenant} (polyprov fleet tenants list)\n`);
          setExit(EXIT.problem);
          return;
        }
        const phones = await admin.fleet.phones({ tenant });
        const r = await renderTree({ root: opts.root, out: flags.out, tenant, fleet: admin.fleet.files, phones, force: flags.force === true });
        if (flags.json) return printJson({ out: flags.out, tenant, ...r });
        process.stdout.write(
          `rendered tenant ${tenant} into ${flags.out}: ${r.copied} file${r.copied === 1 ? '' : 's'} of the tree, ${r.managed} managed/<MAC>.cfg, master file ${r.master === 'tree' ? "the tree's 000000000000.cfg" : "polyprov's default 000000000000.cfg"}\n` +
            `the managed files hold secrets: serve DIR only to the phones (per-phone accounts or a trusted network)\n` +
            `check it: polyprov lint ${flags.out}\n`,
        );
      },
      { readOnly: true, ...(flags.root !== undefined ? { root: flags.root } : {}) },
    );
  });
};
