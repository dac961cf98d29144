// Entry point of the `polyprov` command. Each command lives in its own file under src/cli/
// and exports `register(program)`. Exit codes: 0 success, 1 the command ran and found a
// problem (lint errors, a failed notify, …), 2 usage error, 3 runtime failure.
import { Command, CommanderError } from 'commander';
import { endQuietlyWhenReaderCloses, EXIT } from './exit.ts';
import { COMMANDS } from './commands.ts';

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenReaderCloses();
  const program = new Command('polyprov')
    .description('Provisioning server and fleet manager for Polycom SoundPoint IP, SoundStation IP and VVX phones')
    .version(await version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str) });

  let code: number = EXIT.ok;
  // Only the named command's module (and what it imports) is loaded; --version none; help and unknown names all.
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = named === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  const loads = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : versionOnly ? [] : Object.values(COMMANDS);
  for (const register of await Promise.all(loads.map((load) => load()))) register(program, (c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    const e = err as { code?: string; format?: () => string; message?: string };
    process.stderr.write(`polyprov: ${typeof e.format === 'function' ? e.format() : (e.message ?? String(err))}\n`);
    if (e.code === 'PP_STATE_MISSING') return EXIT.problem; // the command ran: there is nothing to read (issue 13 item 21)
    return e.code === 'PP_USAGE' || e.code === 'PP_OPT_UNKNOWN' || e.code === 'PP_OPT_INVALID' ? EXIT.usage : EXIT.runtime;
  }
  return code;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
