// `polyprov overrides list|show|diff|clear`: what phones changed locally (their uploaded
// <MAC>-phone.cfg and <MAC>-web.cfg) against the server's own view, and the server side of
// Reset Local Config, which per the white paper ("Resetting Parameters to Defaults") writes an
// EMPTY <MAC>-phone.cfg: deleting it would let the phone fall back on its cached copy.
import type { Command } from 'commander';
import { parseConfigFile } from '../config/config-file.ts';
import { displayValue } from '../config/explain-json.ts';
import { parseMac } from '../config/models.ts';
import { resolvePhone } from '../config/resolver.ts';
import type { Mac } from '../config/types.ts';
import { writeConfigFile } from '../config/write-xml.ts';
import { uploadName } from '../core/file-names.ts';
import { LiveTreeSource } from '../core/live-tree.ts';
import { joinRel } from '../core/paths.ts';
import { PhoneDirectoryIndex } from '../core/phone-directories.ts';
import { TreeFiles } from '../core/tree-files.ts';
import { addStateOptions, type ServerOptions } from '../options.ts';
import type { Store, StoredFile, UploadKey } from '../store/store.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage, withStore } from './state-store.ts';

type Kind = 'override-phone' | 'override-web';
const KINDS: Kind[] = ['override-phone', 'override-web'];

function macArg(s: string): Mac {
  const mac = parseMac(s);
  if (!mac) throw usage(`"${s}" is not a MAC address`, 'Write it as 0004f2000001 or 00:04:f2:00:00:01.');
  return mac;
}

async function keyFor(opts: Readonly<ServerOptions>, store: Store, mac: Mac, kind: Kind): Promise<UploadKey> {
  const phone = await store.phones.get(mac);
  const dirs = await new PhoneDirectoryIndex(new TreeFiles(opts.root)).forPhone(mac, phone?.model);
  return { mac, kind, path: joinRel(dirs.dirs.OVERRIDES_DIRECTORY ?? '', uploadName(mac, kind)) };
}

async function overridesOf(store: Store, mac: Mac): Promise<StoredFile[]> {
  return (await store.uploads.listForPhone(mac)).filter((f) => f.key.kind === 'override-phone' || f.key.kind === 'override-web');
}

function paramsOf(buf: Buffer, file: string): Array<{ name: string; value: string; line: number }> {
  try {
    const cfg = parseConfigFile(buf, file);
    return cfg.kind === 'xml' ? cfg.params.map((p) => ({ name: p.name, value: p.value, line: p.pos.line })) : [];
  } catch {
    return [];
  }
}

export const register: RegisterCommand = (program: Command, setExit) => {
  const cmd = program.command('overrides').description("phones' local changes (override files) against the server's view");
  const sub = (name: string) => addStateOptions(cmd.command(name)).option('--root <dir>', 'provisioning tree (default: from the options file, else ./site)');

  sub('list')
    .description('every phone with an uploaded override')
    .option('--json', 'machine-readable output')
    .action(async (_o, c: Command) => {
      const flags = flagsOf<{ data?: string; config?: string; json?: boolean }>(c);
      await withStore(flags, async (store) => {
        const rows: Array<Record<string, unknown>> = [];
        for (const phone of await store.phones.list()) {
          for (const f of await overridesOf(store, phone.mac)) {
            rows.push({ mac: phone.mac, kind: f.key.kind === 'override-phone' ? 'phone' : 'web', path: f.key.path, version: f.version, size: f.size, sha256: f.sha256, storedAt: f.storedAt.toISOString(), address: f.address, locked: f.locked === true });
          }
        }
        if (flags.json) return printJson(rows);
        if (rows.length === 0) return void process.stdout.write('no overrides stored\n');
        for (const r of rows) process.stdout.write(`${r.mac}  ${String(r.kind).padEnd(5)}  v${r.version}  ${String(r.size).padStart(6)} B  ${r.storedAt}  ${r.address}${r.locked ? '  LOCKED' : ''}  ${r.path}\n`);
      });
    });

  sub('show')
    .argument('<mac>')
    .description("a phone's current override parameters")
    .option('--json', 'machine-readable output')
    .option('--show-secrets', 'print secret values')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<{ data?: string; config?: string; json?: boolean; showSecrets?: boolean }>(c);
      const mac = macArg(macText);
      await withStore(flags, async (store) => {
        const out: Record<string, Array<{ name: string; value: string }>> = {};
        for (const f of await overridesOf(store, mac)) {
          out[f.key.kind === 'override-phone' ? 'phone' : 'web'] = paramsOf(await f.read(), f.key.path).map((p) => ({ name: p.name, value: displayValue(p.name, p.value, flags.showSecrets === true) }));
        }
        if (Object.keys(out).length === 0) setExit(EXIT.problem);
        if (flags.json) return printJson({ mac, overrides: out });
        if (Object.keys(out).length === 0) {
          process.stdout.write(`${mac}: no overrides stored\n`);
          return setExit(EXIT.problem);
        }
        for (const [kind, params] of Object.entries(out)) {
          process.stdout.write(`${mac}-${kind}.cfg\n`);
          for (const p of params) process.stdout.write(`  ${p.name} = ${p.value}\n`);
        }
      });
    });

  sub('diff')
    .argument('<mac>')
    .description("each overridden parameter against what the server's files set")
    .option('--json', 'machine-readable output')
    .option('--show-secrets', 'print secret values')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<{ data?: string; config?: string; root?: string; json?: boolean; showSecrets?: boolean }>(c);
      const mac = macArg(macText);
      await withStore(flags, async (store, base) => {
        const opts = flags.root ? { ...base, root: flags.root } : base;
        const phone = await store.phones.get(mac);
        const server = await resolvePhone(new LiveTreeSource(opts.root, store, { hideOverrides: true }), { mac, ...(phone?.model ? { model: phone.model } : {}) });
        const rows: Array<{ kind: string; name: string; phone: string; server: string | null; source: string | null }> = [];
        for (const f of await overridesOf(store, mac)) {
          for (const p of paramsOf(await f.read(), f.key.path)) {
            const s = server.params.get(p.name);
            if (s && s.value === p.value) continue;
            rows.push({
              kind: f.key.kind === 'override-phone' ? 'phone' : 'web',
              name: p.name,
              phone: displayValue(p.name, p.value, flags.showSecrets === true),
              server: s ? displayValue(p.name, s.value, flags.showSecrets === true) : null,
              source: s ? `${s.source.file}:${s.source.line}` : null,
            });
          }
        }
        if (rows.length > 0) setExit(EXIT.problem);
        if (flags.json) return printJson({ mac, differences: rows });
        if (rows.length === 0) return void process.stdout.write(`${mac}: overrides match the server's files\n`);
        for (const r of rows) process.stdout.write(`${r.name}\n  phone (${r.kind}.cfg): ${r.phone}\n  server: ${r.server ?? '(not set: built-in default)'}${r.source ? `  ${r.source}` : ''}\n`);
      });
    });

  sub('clear')
    .argument('<mac>')
    .description('Reset Local Config, server side: store an empty override the phone reads back on its next boot')
    .option('--kind <kind>', 'phone | web | all', 'all')
    .option('--json', 'machine-readable output')
    .action(async (macText: string, _o, c: Command) => {
      const flags = flagsOf<{ data?: string; config?: string; root?: string; kind: string; json?: boolean }>(c);
      const mac = macArg(macText);
      if (!['phone', 'web', 'all'].includes(flags.kind)) throw usage(`--kind ${flags.kind}: expected phone, web or all`);
      await withStore(flags, async (store, base) => {
        const opts = flags.root ? { ...base, root: flags.root } : base;
        const kinds = KINDS.filter((k) => flags.kind === 'all' || k === `override-${flags.kind}`);
        const cleared: string[] = [];
        for (const kind of kinds) {
          const key = await keyFor(opts, store, mac, kind);
          const sink = await store.uploads.begin(key, { mode: 'replace', address: 'polyprov-cli', maxBytes: 1 << 20, keepVersions: opts.uploadKeepVersions });
          await sink.write(Buffer.from(writeConfigFile([]), 'utf8'));
          await sink.commit({ locked: false });
          cleared.push(key.path);
        }
        await store.phones.setOverrideLocked(mac, false);
        if (flags.json) return printJson({ mac, cleared });
        for (const p of cleared) process.stdout.write(`${p}: now empty (previous versions kept in history)\n`);
      });
    });
};
