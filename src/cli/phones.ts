// `polyprov phones`: the inventory of every phone the boot server (or the DHCP responder) has
// seen (issue 4, Inventory and audit): model, part number, application and bootROM versions as
// the User-Agent told them apart, address, first/last seen, last boot, counters, last error.
// Read through the core's admin service; a read-only command (issue 13 item 21).
import type { Command } from 'commander';
import { addStateOptions } from '../options.ts';
import type { Phone } from '../domain.ts';
import type { RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage, withState, type StateFlags } from './state-store.ts';
import { isoSeconds, textTable } from './text-table.ts';

interface PhonesFlags extends StateFlags {
  macPrefix?: string;
  limit?: string;
}

/** A phone as JSON: dates as ISO strings, absent fields left out. Shared with `phone show`. */
export function phoneJson(p: Phone): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
}

export function parseLimit(s: string | undefined, what = '--limit'): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d{1,9}$/.test(s) || Number(s) < 1) throw usage(`${what} ${JSON.stringify(s)} is not a positive whole number`);
  return Number(s);
}

export const register: RegisterCommand = (program) => {
  addStateOptions(
    program
      .command('phones')
      .description('list every phone seen: model, versions, address, last boot, transfers, last error')
      .option('--mac-prefix <prefix>', 'only MACs starting with this (e.g. 0004f2 or 00:04:f2)')
      .option('--limit <n>', 'at most this many phones')
      .option('--json', 'print JSON'),
  ).action(async (_o: unknown, cmd: Command) => {
    const flags = flagsOf<PhonesFlags>(cmd);
    let macPrefix: string | undefined;
    if (flags.macPrefix !== undefined) {
      macPrefix = flags.macPrefix.toLowerCase().replace(/[:.-]/g, '');
      if (!/^[0-9a-f]{1,12}$/.test(macPrefix)) throw usage(`--mac-prefix ${JSON.stringify(flags.macPrefix)} is not the start of a MAC address`);
    }
    const limit = parseLimit(flags.limit);
    await withState(flags, async (admin) => {
      const list = await admin.inventory.phones({ ...(macPrefix ? { macPrefix } : {}), ...(limit ? { limit } : {}) });
      if (flags.json) return printJson(list.map(phoneJson));
      process.stdout.write(
        textTable(
          ['MAC', 'MODEL', 'PART', 'APP', 'BOOTROM', 'ADDRESS', 'FIRST SEEN', 'LAST SEEN', 'LAST BOOT', 'FETCHED', 'UPLOADED', 'LOCKED', 'LAST ERROR'],
          list.map((p) => [
            p.mac, p.model, p.partNumber, p.appVersion, p.bootromVersion, p.address, isoSeconds(p.firstSeen), isoSeconds(p.lastSeen),
            isoSeconds(p.lastBoot), p.fetchedCount, p.uploadedCount, p.overrideLocked ? 'yes' : '', p.lastError,
          ]),
        ),
      );
    }, { readOnly: true });
  });
};
