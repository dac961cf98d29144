// `polyprov secrets rotate [--new-key-file F]` (issue 14, Secrets): re-seal every managed secret
// and the store's check value under a new key, in one transaction, through the admin service
// (recorded in the change record). The new key is written BEFORE the store is re-sealed, with mode
// 0600 and never over an existing file, so no moment exists where the store is sealed under a key
// that is nowhere on disk. Where it goes:
//   --new-key-file F   F (the key in use stays where it is: point secretKeyFile or
//                      POLYPROV_SECRET_KEY at the new one before the next start)
//   otherwise          the key file in use (secretKeyFile, or <data>/secret.key) is replaced by the
//                      new one once the store is re-sealed (written beside it first, then renamed)
// A key given by POLYPROV_SECRET_KEY cannot be replaced by polyprov: --new-key-file is required.
// The key itself is never printed. Stop every server first and restart them with the new key (a
// PostgreSQL store: every node).
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateKey, keyText, SECRET_KEY_ENV, SECRET_KEY_FILE } from '../fleet/secret-key.ts';
import { addStateOptions, type ServerOptions } from '../options.ts';
import type { RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage, withState, type StateFlags } from './state-store.ts';

interface RotateFlags extends StateFlags {
  newKeyFile?: string;
}

/** Where the key in use comes from, as the server finds it (src/fleet/secret-key.ts). */
export function currentKeySource(opts: Readonly<ServerOptions>, env: NodeJS.ProcessEnv = process.env): { env: true } | { file: string } {
  if (env[SECRET_KEY_ENV] !== undefined && env[SECRET_KEY_ENV]!.trim() !== '') return { env: true };
  const file = (opts as { secretKeyFile?: string }).secretKeyFile;
  return { file: file ? resolve(file) : join(resolve(opts.data), SECRET_KEY_FILE) };
}

function writeKey(path: string, key: Buffer): void {
  try {
    writeFileSync(path, `${keyText(key)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw usage(`${path} exists; the new key is never written over a file`, 'Give a new path with --new-key-file.');
    throw usage(`cannot write the new key to ${path}: ${code ?? (err as Error).message}`);
  }
}

export const register: RegisterCommand = (program) => {
  const secrets = program.command('secrets').description('the key that seals managed passwords and keys in the store');
  addStateOptions(
    secrets
      .command('rotate')
      .description('re-seal every managed secret under a new random key (one transaction); stop the servers first, restart them with the new key')
      .option('--new-key-file <file>', 'write the new key to this new file (mode 0600) instead of replacing the key file in use')
      .option('--json', 'print JSON: {"resealed":N,"keyFile":PATH} (never the key)'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<RotateFlags>(cmd);
    await withState(flags, async (admin, opts) => {
      await admin.fleet.open(); // reads (on a first use, creates) the key in use, as every fleet command does
      const source = currentKeySource(opts);
      if ('env' in source && flags.newKeyFile === undefined) {
        throw usage(`the key in use comes from ${SECRET_KEY_ENV}, which polyprov cannot change`, `Give --new-key-file F; then set ${SECRET_KEY_ENV} to the key in F on every node.`);
      }
      const key = generateKey();
      const target = flags.newKeyFile !== undefined ? resolve(flags.newKeyFile) : (source as { file: string }).file;
      // Replacing the key file in use: the new key lands beside it first, renamed over it once the store is re-sealed.
      const staged = flags.newKeyFile !== undefined ? target : `${target}.new-${randomBytes(4).toString('hex')}`;
      writeKey(staged, key);
      let resealed: number;
      try {
        resealed = await resealCount(admin.fleet.rotate(key));
      } catch (err) {
        rmSync(staged, { force: true }); // the store still opens with the old key
        throw err;
      }
      if (staged !== target) renameSync(staged, target);
      if (flags.json) return printJson({ resealed, keyFile: target });
      const next =
        flags.newKeyFile !== undefined
          ? `Before the next start, point ${'env' in source ? SECRET_KEY_ENV : 'the secretKeyFile option'} at it (every node of a shared store): the old key no longer opens the store.`
          : 'Restart the servers (every node of a shared store needs this file).';
      process.stdout.write(`re-sealed ${resealed} secret${resealed === 1 ? '' : 's'} under a new key, written to ${target} (mode 0600). ${next} Back it up: without it the stored passwords are lost.\n`);
    });
  });
};

/** The rotate answer's count of re-sealed values, whatever its exact shape. */
async function resealCount(p: Promise<unknown>): Promise<number> {
  const r = await p;
  if (typeof r === 'number') return r;
  const o = (r ?? {}) as Record<string, unknown>;
  for (const k of ['resealed', 'settings', 'count']) if (typeof o[k] === 'number') return o[k];
  return 0;
}
