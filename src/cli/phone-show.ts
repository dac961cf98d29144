// `polyprov phone show MAC`: one phone's inventory row and the timeline of its last boots
// (issue 4, Inventory and audit). A boot is every request from one boot start (the master file
// read by the bootROM/Updater or by the application; both read it, SEED-AG step 5) until the
// next, so a reboot shows as a bootROM boot followed by an application boot.
import type { Command } from 'commander';
import { parseMac } from '../config/models.ts';
import { addStateOptions } from '../options.ts';
import type { AuditEvent, BootRecord, Phone, Store } from '../store/store.ts';
import type { Mac } from '../config/types.ts';
import { ProvError } from '../errors.ts';
import { EXIT } from './exit.ts';
import { phoneJson, parseLimit } from './phones.ts';
import { flagsOf, printJson, usage, withStore, type StateFlags } from './state-store.ts';
import { isoSeconds } from './text-table.ts';

interface ShowFlags extends StateFlags {
  boots?: string;
}

/** The requests one boot made: audit events from its start up to the next boot's. */
export interface BootTimeline extends BootRecord {
  requests: AuditEvent[];
}

/** Bounds the audit read for one phone's timeline. */
const MAX_EVENTS = 20_000;

export async function bootTimeline(store: Store, mac: Mac, boots: number): Promise<BootTimeline[]> {
  const starts = await store.phones.boots(mac, boots); // newest first
  if (starts.length === 0) return [];
  const oldest = starts[starts.length - 1]!.at;
  const events = (await store.audit.query({ mac, since: oldest, limit: MAX_EVENTS })).reverse(); // oldest first
  const out: BootTimeline[] = starts.map((b) => ({ ...b, requests: [] }));
  // Walk events oldest first and boots oldest first; events share the boot whose start precedes them.
  let bi = out.length - 1;
  for (const e of events) {
    while (bi > 0 && e.at.getTime() >= out[bi - 1]!.at.getTime()) bi--;
    out[bi]!.requests.push(e);
  }
  return out;
}

function printText(p: Phone, timeline: BootTimeline[]): void {
  const w = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') process.stdout.write(`${`${k}:`.padEnd(18)}${v}\n`);
  };
  w('MAC', p.mac);
  w('Model', p.model);
  w('Part number', p.partNumber);
  w('Application', p.appVersion);
  w('BootROM/Updater', p.bootromVersion);
  w('Address', p.address);
  w('Last transport', p.lastSource);
  w('First seen', isoSeconds(p.firstSeen));
  w('Last seen', isoSeconds(p.lastSeen));
  w('Last boot', isoSeconds(p.lastBoot));
  w('Files fetched', p.fetchedCount);
  w('Files uploaded', p.uploadedCount);
  w('Override locked', p.overrideLocked ? 'yes (locked parameters stripped from the served override)' : undefined);
  w('SIP user', p.sipUser);
  w('SIP port', p.sipPort);
  w('Last error', p.lastError);
  if (timeline.length === 0) {
    process.stdout.write('\nNo boot recorded yet.\n');
    return;
  }
  process.stdout.write(`\nLast ${timeline.length} boot${timeline.length === 1 ? '' : 's'}, newest first:\n`);
  for (const b of timeline) {
    const stage = b.stage ?? 'boot';
    process.stdout.write(`\n${isoSeconds(b.at)}  ${stage}${b.version ? ` ${b.version}` : ''} via ${b.source} from ${b.address}\n`);
    if (b.userAgent) process.stdout.write(`  User-Agent: ${b.userAgent}\n`);
    for (const e of b.requests) {
      const dt = ((e.at.getTime() - b.at.getTime()) / 1000).toFixed(3);
      process.stdout.write(
        `  +${dt}s  ${e.transport} ${e.op} ${e.path} ${e.status} ${e.bytes}B ${Math.round(e.durationMs)}ms${e.code ? ` ${e.code}` : ''}\n`,
      );
    }
    if (b.requests.length === 0) process.stdout.write('  (no transfers recorded)\n');
  }
}

/**
 * Adds `show MAC` to the `phone` command. Pass main's setExit so "never seen" exits 1 (a problem
 * found); without it that case is reported as an error (exit 3).
 */
export function registerPhoneShow(phoneCmd: Command, setExit?: (code: number) => void): void {
  addStateOptions(
    phoneCmd
      .command('show <mac>')
      .description('one phone: its inventory row and the timeline of its last boots')
      .option('--boots <n>', 'how many boots to show (default 5)')
      .option('--json', 'print JSON'),
  ).action(async (macArg: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<ShowFlags>(cmd);
    const mac = parseMac(macArg);
    if (!mac) throw usage(`${JSON.stringify(macArg)} is not a MAC address`, 'Write it as 0004f2000001 or 00:04:f2:00:00:01.');
    const boots = parseLimit(flags.boots, '--boots') ?? 5;
    await withStore(flags, async (store) => {
      const p = await store.phones.get(mac);
      if (!p) {
        const msg = `phone ${mac} has never been seen`;
        if (!setExit) throw new ProvError('PP_NOT_FOUND', msg);
        if (flags.json) printJson(null);
        process.stderr.write(`polyprov: ${msg}\n`);
        setExit(EXIT.problem);
        return;
      }
      const timeline = await bootTimeline(store, mac, boots);
      if (flags.json) {
        printJson({
          phone: phoneJson(p),
          boots: timeline.map((b) => JSON.parse(JSON.stringify(b)) as unknown),
        });
      } else printText(p, timeline);
    });
  });
}
