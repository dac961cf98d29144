// `polyprov phone show MAC`: one phone's inventory row and the timeline of its last boots
// (issue 4, Inventory and audit), read through the core's admin service, which groups the
// requests by boot (src/core/admin-inventory.ts: a boot is every request from one boot start
// until the next, so a reboot shows as a bootROM boot followed by an application boot).
import type { Command } from 'commander';
import type { BootTimeline } from '../core/admin.ts';
import type { Phone } from '../domain.ts';
import { addStateOptions } from '../options.ts';
import { ProvError } from '../errors.ts';
import { EXIT } from './exit.ts';
import { phoneJson, parseLimit } from './phones.ts';
import { flagsOf, macArg, printJson, withState, type StateFlags } from './state-store.ts';
import { isoSeconds } from './text-table.ts';

interface ShowFlags extends StateFlags {
  boots?: string;
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
  ).action(async (macText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<ShowFlags>(cmd);
    const mac = macArg(macText);
    const boots = parseLimit(flags.boots, '--boots') ?? 5;
    await withState(flags, async (admin) => {
      const p = await admin.inventory.phone(mac);
      if (!p) {
        const msg = `phone ${mac} has never been seen`;
        if (!setExit) throw new ProvError('PP_NOT_FOUND', msg);
        if (flags.json) printJson(null);
        process.stderr.write(`polyprov: ${msg}\n`);
        setExit(EXIT.problem);
        return;
      }
      const timeline = await admin.inventory.bootTimeline(mac, boots);
      if (flags.json) {
        printJson({
          phone: phoneJson(p),
          boots: timeline.map((b) => JSON.parse(JSON.stringify(b)) as unknown),
        });
      } else printText(p, timeline);
    }, { readOnly: true });
  });
}
