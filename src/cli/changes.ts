// `polyprov changes [--since T] [--target X] [--limit N] [--json]`: the change record (issue 12
// item 4), newest first — every administrative change made through the core's admin service,
// with who made it (the OS user for the CLI), when, what, and the old and new values with
// secrets already masked. A read-only command (issue 13 item 21).
import type { Command } from 'commander';
import { parseMac } from '../config/models.ts';
import type { ChangeQuery, ChangeRecord } from '../domain.ts';
import { addStateOptions } from '../options.ts';
import type { RegisterCommand } from './exit.ts';
import { parseLimit } from './phones.ts';
import { flagsOf, parseSince, printJson, withState, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface ChangesFlags extends StateFlags {
  since?: string;
  target?: string;
  limit?: string;
}

/** A value on one line: JSON, shortened for the table (`--json` has it whole). */
function brief(v: unknown): string {
  if (v === undefined) return '-';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function changeJson(c: ChangeRecord): Record<string, unknown> {
  return JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
}

export const register: RegisterCommand = (program) => {
  addStateOptions(
    program
      .command('changes')
      .description('administrative changes (accounts, staging, overrides, enrolment resets): who, when, what, old → new; newest first')
      .option('--since <iso>', 'only from this time on (ISO 8601)')
      .option('--target <name>', 'only changes of this account, MAC or setting')
      .option('--limit <n>', 'at most this many changes (default 100)')
      .option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<ChangesFlags>(cmd);
    const q: ChangeQuery = { limit: parseLimit(flags.limit) ?? 100 };
    if (flags.since !== undefined) q.since = parseSince(flags.since);
    // A MAC in any spelling names the phone as the record does (12 lower-case hex digits).
    if (flags.target !== undefined) q.target = parseMac(flags.target) ?? flags.target;
    await withState(
      flags,
      async (admin) => {
        const list = await admin.changes(q);
        if (flags.json) return printJson(list.map(changeJson));
        process.stdout.write(
          textTable(
            ['TIME', 'WHO', 'OPERATION', 'TARGET', 'OLD', 'NEW'],
            list.map((c) => [isoSeconds(c.at), c.who, c.operation, c.target, brief(c.old), brief(c.new)]),
          ),
        );
      },
      { readOnly: true },
    );
  });
};
