// Opens the server state the options name (--data, --config, $POLYPROV_DATA …) for one command,
// through the core's admin service (src/core/open-core.ts), and closes it afterwards, so every
// state command reads the very state `polyprov serve` writes and every change it makes is
// recorded with the OS user who made it. No command touches the store itself.
import type { Command } from 'commander';
import type { AdminService } from '../core/admin.ts';
import { withAdmin } from '../core/open-core.ts';
import { parseMac } from '../config/models.ts';
import type { Mac } from '../domain.ts';
import { loadServerOptions, type ServerOptions } from '../options.ts';
import { ProvError } from '../errors.ts';

export interface StateFlags {
  data?: string;
  config?: string;
  json?: boolean;
}

/**
 * Runs `fn` with the admin service over this command's state. `readOnly` commands (phones,
 * phone show, audit, accounts list, overrides list|show|diff, changes, logs) never create
 * state: a data directory without any is PP_STATE_MISSING (exit 1) instead of an empty table
 * (issue 13 item 21).
 */
export async function withState<T>(
  flags: StateFlags,
  fn: (admin: AdminService, opts: Readonly<ServerOptions>) => Promise<T>,
  o: { readOnly?: boolean; root?: string } = {},
): Promise<T> {
  const opts = loadServerOptions({ data: flags.data, config: flags.config, ...(o.root !== undefined ? { root: o.root } : {}) });
  return withAdmin(opts, { readOnly: o.readOnly === true }, (admin) => fn(admin, opts));
}

/** The flags of this command merged over its parents' (so `--data` works before or after the subcommand). */
export function flagsOf<T extends object>(cmd: Command): T {
  return cmd.optsWithGlobals() as T;
}

export function usage(message: string, hint?: string): ProvError {
  return new ProvError('PP_USAGE', message, hint === undefined ? {} : { hint });
}

/** A MAC argument or flag value, else a usage error (exit 2). */
export function macArg(s: string, what = ''): Mac {
  const mac = parseMac(s);
  if (!mac) throw usage(`${what ? `${what} ` : ''}${JSON.stringify(s)} is not a MAC address`, 'Write it as 0004f2000001 or 00:04:f2:00:00:01.');
  return mac;
}

/** ISO 8601 date or date-time; a bare date means its midnight UTC (what Date.parse does). */
export function parseSince(s: string): Date {
  const t = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(t)) throw usage(`--since ${JSON.stringify(s)} is not an ISO 8601 date or time`, 'Write it as 2026-01-05 or 2026-01-05T08:00:00Z.');
  return new Date(t);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
