// `polyprov overrides list|show|diff|clear`: what phones changed locally (their uploaded
// <MAC>-phone.cfg and <MAC>-web.cfg) against the server's own view, and the server side of
// Reset Local Config (white paper, "Resetting Parameters to Defaults"). Everything goes through
// the core's admin service (src/core/admin-overrides.ts), which records a clear in the change
// record; this file only parses flags and prints.
import type { Command } from 'commander';
import { displayValue } from '../config/explain-json.ts';
import type { OverrideKind } from '../core/admin.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, macArg, printJson, usage, withState } from './state-store.ts';

interface OverrideFlags {
  data?: string;
  config?: string;
  root?: string;
  json?: boolean;
  showSecrets?: boolean;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  const cmd = program.command('overrides').description("phones' local changes (override files) against the server's view");
  const sub = (name: string) => addStateOptions(cmd.command(name)).option('--root <dir>', 'provisioning tree (default: from the options file, else ./site)');

  sub('list')
    .description('every phone with an uploaded override')
    .option('--json', 'machine-readable output')
    .action(async (_o, c: Command) => {
      const flags = flagsOf<OverrideFlags>(c);
      await withState(
        flags,
        async (admin) => {
          const rows = (await admin.overrides.list()).map(({ mac, kind, file: f }) => ({
            mac, kind, path: f.key.path, version: f.version, size: f.size, sha256: f.sha256, storedAt: f.storedAt.toISOString(), address: f.address, locked: f.locked === true,
          }));
          if (flags.json) return printJson(rows);
          if (rows.length === 0) return void process.stdout.write('no overrides stored\n');
          for (const r of rows) process.stdout.write(`${r.mac}  ${r.kind.padEnd(5)}  v${r.version}  ${String(r.size).padStart(6)} B  ${r.storedAt}  ${r.address}${r.locked ? '  LOCKED' : ''}  ${r.path}\n`);
        },
        { readOnly: true },
      );
    });

  sub('show')
    .argument('<mac>')
    .description("a phone's current override parameters")
    .option('--json', 'machine-readable output')
    .option('--show-secrets', 'print secret values')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<OverrideFlags>(c);
      const mac = macArg(macText);
      await withState(flags, async (admin) => {
        const out: Record<string, Array<{ name: string; value: string }>> = {};
        for (const [kind, params] of Object.entries(await admin.overrides.show(mac))) {
          out[kind] = params.map((p) => ({ name: p.name, value: displayValue(p.name, p.value, flags.showSecrets === true) }));
        }
        if (Object.keys(out).length === 0) setExit(EXIT.problem);
        // Which is served, the upload or a later edit of the tree file, and why (issue 13 item 3).
        const served = await admin.overrides.served(mac);
        if (flags.json) return printJson({ mac, overrides: out, served });
        if (Object.keys(out).length === 0) return void process.stdout.write(`${mac}: no overrides stored\n`);
        for (const [kind, params] of Object.entries(out)) {
          const s = served[kind as keyof typeof served];
          process.stdout.write(`${mac}-${kind}.cfg${s ? `  (${s.served ? 'served' : 'NOT served'}: ${s.why})` : ''}\n`);
          for (const p of params) process.stdout.write(`  ${p.name} = ${p.value}\n`);
        }
      }, { readOnly: true, ...(flags.root ? { root: flags.root } : {}) });
    });

  sub('diff')
    .argument('<mac>')
    .description("each overridden parameter against what the server's files set")
    .option('--json', 'machine-readable output')
    .option('--show-secrets', 'print secret values')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<OverrideFlags>(c);
      const mac = macArg(macText);
      const show = (name: string, v: string) => displayValue(name, v, flags.showSecrets === true);
      await withState(
        flags,
        async (admin) => {
          const rows = (await admin.overrides.diff(mac)).map((d) => ({ ...d, phone: show(d.name, d.phone), server: d.server === null ? null : show(d.name, d.server) }));
          if (rows.length > 0) setExit(EXIT.problem);
          if (flags.json) return printJson({ mac, differences: rows });
          if (rows.length === 0) return void process.stdout.write(`${mac}: overrides match the server's files\n`);
          for (const r of rows) process.stdout.write(`${r.name}\n  phone (${r.kind}.cfg): ${r.phone}\n  server: ${r.server ?? '(not set: built-in default)'}${r.source ? `  ${r.source}` : ''}\n`);
        },
        { readOnly: true, ...(flags.root ? { root: flags.root } : {}) },
      );
    });

  sub('clear')
    .argument('<mac>')
    .description('Reset Local Config, server side: store an empty override the phone reads back on its next boot')
    .option('--kind <kind>', 'phone | web | directory (the stored contact directory is removed: the tree\'s is served again) | all', 'all')
    .option('--json', 'machine-readable output')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<OverrideFlags & { kind: string }>(c);
      const mac = macArg(macText);
      if (!['phone', 'web', 'directory', 'all'].includes(flags.kind)) throw usage(`--kind ${flags.kind}: expected phone, web, directory or all`);
      const kinds: OverrideKind[] = flags.kind === 'all' ? ['phone', 'web'] : flags.kind === 'directory' ? [] : [flags.kind as OverrideKind];
      const directory = flags.kind === 'all' || flags.kind === 'directory';
      await withState(
        flags,
        async (admin) => {
          const cleared = kinds.length ? await admin.overrides.clear(mac, kinds) : [];
          // The contact directory too (issue 13 item 3): removed, so the tree's directory is served again.
          const dir = directory ? await admin.overrides.clearDirectory(mac) : undefined;
          if (flags.json) return printJson({ mac, cleared: dir ? [...cleared, dir] : cleared });
          for (const p of cleared) process.stdout.write(`${p}: now empty (previous versions kept in history)\n`);
          if (dir) process.stdout.write(`${dir}: stored contact directory removed; the tree's is served again\n`);
        },
        { ...(flags.root ? { root: flags.root } : {}) },
      );
    });
};
