// `polyprov audit`: one record per transfer (issue 4, Inventory and audit), newest first, read
// through the core's admin service. A read-only command: no state, no store created (issue 13
// item 21).
import type { Command } from 'commander';
import type { AuditQuery } from '../domain.ts';
import { addStateOptions } from '../options.ts';
import type { RegisterCommand } from './exit.ts';
import { parseLimit } from './phones.ts';
import { flagsOf, macArg, parseSince, printJson, withState, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface AuditFlags extends StateFlags {
  mac?: string;
  since?: string;
  limit?: string;
}

export const register: RegisterCommand = (program) => {
  addStateOptions(
    program
      .command('audit')
      .description('transfers recorded by the boot server, newest first')
      .option('--mac <mac>', 'only this phone')
      .option('--since <iso>', 'only from this time on (ISO 8601)')
      .option('--limit <n>', 'at most this many records (default 100)')
      .option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<AuditFlags>(cmd);
    const q: AuditQuery = { limit: parseLimit(flags.limit) ?? 100 };
    if (flags.mac !== undefined) q.mac = macArg(flags.mac, '--mac');
    if (flags.since !== undefined) q.since = parseSince(flags.since);
    await withState(
      flags,
      async (admin) => {
        const events = await admin.inventory.audit(q);
        if (flags.json) return printJson(events);
        process.stdout.write(
          textTable(
            ['TIME', 'MAC', 'ADDRESS', 'TRANSPORT', 'OP', 'PATH', 'STATUS', 'BYTES', 'MS', 'USER', 'CODE'],
            events.map((e) => [isoSeconds(e.at), e.mac, e.address, e.transport, e.op, e.path, e.status, e.bytes, Math.round(e.durationMs), e.user, e.code]),
          ),
        );
      },
      { readOnly: true },
    );
  });
};
