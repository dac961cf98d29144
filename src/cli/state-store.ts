// Opens the store the server options name (--data, --config, $POLYPROV_DATA …) for one command
// and closes it afterwards, so every state command (accounts, phones, phone show, audit) reads
// the very state `polyprov serve` writes.
import type { Command } from 'commander';
import { loadServerOptions, type ServerOptions } from '../options.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { ProvError } from '../errors.ts';

export interface StateFlags {
  data?: string;
  config?: string;
  json?: boolean;
}

export async function withStore<T>(flags: StateFlags, fn: (store: Store, opts: Readonly<ServerOptions>) => Promise<T>): Promise<T> {
  const opts = loadServerOptions({ data: flags.data, config: flags.config });
  const store = await openStore(opts);
  try {
    return await fn(store, opts);
  } finally {
    await store.close();
  }
}

/** The flags of this command merged over its parents' (so `--data` works before or after the subcommand). */
export function flagsOf<T extends object>(cmd: Command): T {
  return cmd.optsWithGlobals() as T;
}

export function usage(message: string, hint?: string): ProvError {
  return new ProvError('PP_USAGE', message, hint === undefined ? {} : { hint });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
