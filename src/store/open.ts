// Opens the store the server options name: `sqlite` (the embedded default, `<data>/polyprov.db`)
// or a `postgres://` URL shared by several nodes. Upload temp files live under `<data>/tmp` either
// way, so `data` is created in both cases. The returned store is initialised.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvError } from '../errors.ts';
import type { Store } from './store.ts';

export const SQLITE_FILE = 'polyprov.db';

/** Where the store lives: the data directory and `sqlite` or a `postgres://` URL (the server options hand these down). */
export interface StoreLocation {
  data: string;
  storeUrl: string;
}

/**
 * `waitForDatabase` (serve, issue 16): a PostgreSQL store whose database is down opens anyway,
 * answers PP_STORE_UNAVAILABLE and connects by itself when the database returns.
 */
export async function openStore(opts: StoreLocation, o: { waitForDatabase?: boolean } = {}): Promise<Store> {
  const data = resolve(opts.data);
  try {
    mkdirSync(data, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ProvError('PP_OPT_INVALID', `cannot create the data directory ${data}: ${(err as Error).message}`, {
      cause: err,
      hint: 'Give --data a directory polyprov may write.',
    });
  }
  const tmpDir = join(data, 'tmp');
  const url = opts.storeUrl.trim();
  let store: Store;
  if (url === '' || url === 'sqlite') {
    const { SqliteStore } = await import('./sqlite/sqlite-store.ts');
    store = new SqliteStore({ file: join(data, SQLITE_FILE), tmpDir });
  } else if (/^postgres(?:ql)?:\/\//i.test(url)) {
    const { PgStore } = await import('./postgres/pg-store.ts');
    const pgStore = new PgStore({ ...parsePgUrl(url), tmpDir });
    await pgStore.init(o);
    return pgStore;
  } else {
    throw new ProvError('PP_OPT_INVALID', `storeUrl "${redactUrl(url)}" is neither "sqlite" nor a postgres:// URL`, {
      hint: 'Use "sqlite" (the default, a file under --data) or postgres://user@host:5432/db.',
    });
  }
  await store.init();
  return store;
}

/** Splits polyprov's own `?schema=NAME` off a PostgreSQL URL (libpq would refuse it). */
export function parsePgUrl(url: string): { connectionString: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  const out: { connectionString: string; schema?: string } = { connectionString: u.toString() };
  if (schema) out.schema = schema;
  return out;
}

/** A URL fit for messages: the password, if any, replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
