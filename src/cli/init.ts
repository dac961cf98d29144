// `polyprov init DIR [--force]`: writes a documented starter provisioning tree a newcomer can
// serve at once (issue 3, polyprov init). Refuses a non-empty DIR unless --force; with --force
// it writes the starter files over existing ones of the same name and leaves everything else.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ProvError } from '../errors.ts';
import { STARTER_DIRECTORIES, starterFiles } from '../config/starter-tree.ts';
import { EXIT, type RegisterCommand } from './exit.ts';

export async function writeStarterTree(dir: string, opts: { force?: boolean } = {}): Promise<string[]> {
  const root = resolve(dir);
  const st = await stat(root).catch(() => null);
  if (st && !st.isDirectory()) throw new ProvError('PP_USAGE', `${dir} exists and is not a directory`);
  if (st && !opts.force) {
    const entries = await readdir(root);
    if (entries.length > 0) {
      throw new ProvError('PP_USAGE', `${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); polyprov init writes a new tree`, {
        hint: 'Choose a new directory, or add --force to write the starter files into it (files of the same name are replaced, others kept).',
      });
    }
  }
  await mkdir(root, { recursive: true });
  for (const d of STARTER_DIRECTORIES) await mkdir(join(root, d), { recursive: true });
  const written: string[] = [];
  for (const [path, content] of Object.entries(starterFiles())) {
    const full = join(root, ...path.split('/'));
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
    written.push(path);
  }
  return written;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('init')
    .description('create a documented starter provisioning tree (master file, site file, example phone file, seed contact directory, upload directories)')
    .argument('<dir>', 'directory to create (must be empty or absent)')
    .option('--force', 'write into a non-empty directory, replacing starter files of the same name')
    .action(async (dir: string, flags: { force?: boolean }) => {
      const written = await writeStarterTree(dir, flags);
      const lines = [
        `created provisioning tree ${dir}:`,
        ...written.map((p) => `  ${p}`),
        ...STARTER_DIRECTORIES.map((d) => `  ${d}/`),
        '',
        'next:',
        `  polyprov lint ${dir}`,
        `  polyprov serve --root ${dir}`,
        `  polyprov explain ${dir} --mac 0004f2000001 --model SPIP650`,
        '',
      ];
      process.stdout.write(lines.join('\n'));
      setExit(EXIT.ok);
    });
};
