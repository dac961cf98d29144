// `polyprov audit`: one record per transfer (issue 4, Inventory and audit), newest first.
import type { Command } from 'commander';
import { parseMac } from '../config/models.ts';
import type { Mac } from '../config/types.ts';
import { addStateOptions } from '../options.ts';
import type { AuditQuery } from '../store/store.ts';
import type { RegisterCommand } from './exit.ts';
import { parseLimit } from './phones.ts';
import { flagsOf, printJson, usage, withStore, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface AuditFlags extends StateFlags {
  mac?: string;
  since?: string;
  limit?: string;
}

/** ISO 8601 date or date-time; a bare date means its midnight UTC (what Date.parse does). */
function parseSince(s: string): Date {
  const t = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(t)) throw usage(`--since ${JSON.stringify(s)} is not an ISO 8601 date or time`, 'Write it as 2026-01-05 or 2026-01-05T08:00:00Z.');
  return new Date(t);
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
    if (flags.mac !== undefined) {
      const mac: Mac | undefined = parseMac(flags.mac);
      if (!mac) throw usage(`--mac ${JSON.stringify(flags.mac)} is not a MAC address`, 'Write it as 0004f2000001 or 00:04:f2:00:00:01.');
      q.mac = mac;
    }
    if (flags.since !== undefined) q.since = parseSince(flags.since);
    await withStore(flags, async (store) => {
      const events = await store.audit.query(q);
      if (flags.json) return printJson(events);
      process.stdout.write(
        textTable(
          ['TIME', 'MAC', 'ADDRESS', 'TRANSPORT', 'OP', 'PATH', 'STATUS', 'BYTES', 'MS', 'USER', 'CODE'],
          events.map((e) => [isoSeconds(e.at), e.mac, e.address, e.transport, e.op, e.path, e.status, e.bytes, Math.round(e.durationMs), e.user, e.code]),
        ),
      );
    });
  });
};
