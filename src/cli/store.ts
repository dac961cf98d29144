// `polyprov store copy --to postgres://…` (issue 16, Several nodes, one PostgreSQL): moves a site
// from the store the options name (the embedded SQLite store under --data, by default) to an empty
// PostgreSQL store, with its history — inventory, every kept upload version, audit, change record,
// accounts, settings, the managed fleet, API tokens and check-sync jobs — in one transaction. The
// work is the core's (copyStoreTo); this file parses and prints.
import type { Command } from 'commander';
import { copyStoreTo } from '../core/open-core.ts';
import { addStateOptions, loadServerOptions } from '../options.ts';
import type { RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage } from './state-store.ts';

interface CopyFlags {
  data?: string;
  config?: string;
  to?: string;
  json?: boolean;
}

export const register: RegisterCommand = (program: Command) => {
  const store = program.command('store').description('the state store itself: copy a site to PostgreSQL');
  addStateOptions(
    store
      .command('copy')
      .description('copy the store the options name (--data/--config) into an empty PostgreSQL store, history included; give every node on it the same secret key')
      .requiredOption('--to <url>', 'the target: postgres://user@host:5432/db, optionally ?schema=NAME')
      .option('--json', 'print the rows copied per table as JSON'),
  ).action(async (_o, c: Command) => {
    const flags = flagsOf<CopyFlags>(c);
    if (!flags.to) throw usage('store copy needs --to postgres://…');
    const r = await copyStoreTo(loadServerOptions({ data: flags.data, config: flags.config }), flags.to);
    if (flags.json) return printJson(r);
    const total = r.tables.reduce((n, t) => n + t.rows, 0);
    process.stdout.write(`copied ${total} rows from ${r.from} to ${r.to}\n`);
    for (const t of r.tables) process.stdout.write(`  ${t.table.padEnd(22)} ${t.rows}\n`);
    if (r.dropped.length > 0) process.stdout.write(`not copied (no such column in the target): ${r.dropped.join(', ')}\n`);
  });
};
