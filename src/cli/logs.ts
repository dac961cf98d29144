// `polyprov logs MAC [--kind boot|app] [--follow] [--json]`: a phone's uploaded logs (issue 13
// item 22). Phones upload <MAC>-boot.log and <MAC>-app.log to their LOG_FILE_DIRECTORY; the
// boot server keeps them in its store as one rolling log per phone and kind (capped at
// logCapBytes), never in the tree, so this command is how to read them. Read through the
// core's admin service; a read-only command (issue 13 item 21). `--follow` prints what the
// phone uploads next, as `tail -f` does, until interrupted.
import type { Command } from 'commander';
import type { LogKind } from '../core/admin.ts';
import type { Mac, StoredFile } from '../domain.ts';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, macArg, printJson, usage, withState, type StateFlags } from './state-store.ts';
import { isoSeconds } from './text-table.ts';

interface LogsFlags extends StateFlags {
  kind?: string;
  follow?: boolean;
  intervalMs?: string;
}

const FOLLOW_INTERVAL_MS = 1000;

/**
 * What `next` adds to `prev`. A rolling log drops its oldest bytes when it passes the cap, so
 * the new version is an end of the old one (from some offset d) plus what was appended: d is
 * found where `next`'s first bytes occur in `prev`, checked whole; a version that shares
 * nothing with the old one is new throughout.
 */
export function appendedPart(prev: Buffer, next: Buffer): Buffer {
  const kept = (d: number) => prev.length - d <= next.length && next.subarray(0, prev.length - d).equals(prev.subarray(d));
  const head = next.subarray(0, 64);
  for (let d = prev.indexOf(head); d >= 0; d = prev.indexOf(head, d + 1)) if (kept(d)) return next.subarray(prev.length - d);
  // Less of the old version left than the head is long: try those few offsets directly.
  for (let d = Math.max(0, prev.length - head.length + 1); d <= prev.length; d++) if (kept(d)) return next.subarray(prev.length - d);
  return next;
}

function header(kind: LogKind, f: StoredFile): string {
  return `==> ${f.key.path} (${kind} log, version ${f.version}, ${f.size} bytes, stored ${isoSeconds(f.storedAt)} from ${f.address}) <==\n`;
}

async function follow(readLogs: () => Promise<Array<{ kind: LogKind; file: StoredFile }>>, seen: Map<LogKind, { version: number; body: Buffer }>, intervalMs: number, many: boolean): Promise<void> {
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop) {
      await new Promise((r) => setTimeout(r, intervalMs));
      if (stop) break;
      for (const { kind, file } of await readLogs()) {
        const last = seen.get(kind);
        if (last && last.version === file.version) continue;
        const body = await file.read();
        const more = appendedPart(last?.body ?? Buffer.alloc(0), body);
        seen.set(kind, { version: file.version, body });
        if (more.length === 0) continue;
        if (many) process.stdout.write(header(kind, file));
        process.stdout.write(more);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const register: RegisterCommand = (program, setExit) => {
  addStateOptions(
    program
      .command('logs')
      .argument('<mac>', 'the phone')
      .description("a phone's uploaded logs (<MAC>-boot.log, <MAC>-app.log), kept in the store as one rolling log per kind")
      .option('--kind <kind>', 'boot (bootROM/Updater) or app (application); default both')
      .option('-f, --follow', 'keep printing what the phone uploads next, until interrupted')
      .option('--interval-ms <ms>', 'with --follow: how often to look (default 1000)')
      .option('--json', 'print JSON (each log with its text)'),
  ).action(async (macText: string, _o: unknown, cmd: Command) => {
    const flags = flagsOf<LogsFlags>(cmd);
    const mac: Mac = macArg(macText);
    if (flags.kind !== undefined && flags.kind !== 'boot' && flags.kind !== 'app') throw usage(`--kind ${JSON.stringify(flags.kind)}: expected boot or app`);
    const kind = flags.kind as LogKind | undefined;
    if (flags.follow && flags.json) throw usage('--follow prints text as it comes; it does not combine with --json');
    const intervalMs = flags.intervalMs === undefined ? FOLLOW_INTERVAL_MS : Number(flags.intervalMs);
    if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) throw usage(`--interval-ms ${JSON.stringify(flags.intervalMs)} is not a whole number of milliseconds (10 or more)`);
    await withState(
      flags,
      async (admin) => {
        const read = () => admin.inventory.logs(mac, kind);
        const logs = await read();
        if (flags.json) {
          const out = [];
          for (const { kind: k, file: f } of logs) out.push({ kind: k, path: f.key.path, version: f.version, size: f.size, storedAt: f.storedAt.toISOString(), address: f.address, text: (await f.read()).toString('utf8') });
          if (out.length === 0) setExit(EXIT.problem);
          return printJson(out);
        }
        const many = kind === undefined;
        const seen = new Map<LogKind, { version: number; body: Buffer }>();
        for (const { kind: k, file: f } of logs) {
          const body = await f.read();
          seen.set(k, { version: f.version, body });
          if (many) process.stdout.write(header(k, f));
          process.stdout.write(body);
          if (body.length > 0 && body[body.length - 1] !== 0x0a && many) process.stdout.write('\n');
        }
        if (logs.length === 0 && !flags.follow) {
          process.stderr.write(`polyprov: no ${kind ? `${kind} ` : ''}log stored for ${mac} (phones upload them to LOG_FILE_DIRECTORY while they boot and run)\n`);
          setExit(EXIT.problem);
          return;
        }
        if (flags.follow) await follow(read, seen, intervalMs, many);
      },
      { readOnly: true },
    );
  });
};
