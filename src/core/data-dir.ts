// The data directory's own rules (issue 13 items 12 and 21). It holds password hashes (HA1) and
// the phones' overrides: polyprov creates it 0700 (src/store/open.ts) and refuses one that its
// group or others may enter, naming the fix. A read-only state command never creates state:
// pointed at a directory with none, it says so instead of printing an empty table.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvError } from '../errors.ts';
import { SQLITE_FILE, type StoreLocation } from '../store/open.ts';
import { isEmbeddedStore } from '../options.ts';

/** Refuses a data directory with any group or other permission bit; a missing one is fine (it is created 0700). */
export function checkDataDirMode(data: string): void {
  const dir = resolve(data);
  let mode: number;
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new ProvError('PP_OPT_INVALID', `the data directory ${dir} is not a directory`, { hint: 'Give --data a directory.' });
    mode = st.mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new ProvError(
      'PP_DATA_DIR_OPEN',
      `the data directory ${dir} has mode ${mode.toString(8).padStart(4, '0')}: its group or others may enter it, and it holds password hashes and the phones' overrides; refusing to use it.`,
      { hint: `Fix: chmod 700 ${dir}` },
    );
  }
}

/** Whether there is any state to read: the SQLite file, or (PostgreSQL) a server that holds it. */
export function stateExists(loc: StoreLocation): boolean {
  if (!isEmbeddedStore(loc)) return true; // the state is in the database, not under --data
  return existsSync(join(resolve(loc.data), SQLITE_FILE));
}

export function stateMissing(loc: StoreLocation): ProvError {
  const dir = resolve(loc.data);
  return new ProvError('PP_STATE_MISSING', `no polyprov state at ${dir}${existsSync(dir) ? '' : ' (the directory does not exist)'}; nothing was created`, {
    hint: 'Give --data (or --config) where `polyprov serve` keeps its state.',
  });
}
