// Owns the fresh PostgreSQL schemas that tests and benchmarks isolate themselves in (issue 4: "a
// PostgreSQL backend for several nodes"): a schema name of this process's own, the storeUrl that
// names it (?schema=), dropping them afterwards, and a test file's one-call setup that probes the
// server once and says why it skips (or fails under POLYPROV_REQUIRE_PEERS=1) when none answers.
//   const pgs = await pgTestSchemas('pp_cli');
//   afterAll(() => pgs.dropAll());
//   if (pgs.why) describe('…', () => test.skip(pgs.skipTitle, () => undefined));
//   else … openStore({ storeUrl: pgs.fresh(), … })
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { missingPeer, pgUnreachable, TEST_PG_URL } from './peers.ts';

/** `PREFIX_PID_HEX`: unique to this process and call, a valid unquoted PostgreSQL identifier. */
export function schemaName(prefix: string, bytes = 3): string {
  return `${prefix}_${process.pid}_${randomBytes(bytes).toString('hex')}`;
}

/** `url` with the store's own schema parameter set to `schema`. */
export function schemaUrl(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** Drops each schema (CASCADE) on one connection to `url`. */
export async function dropSchemas(url: string, schemas: Iterable<string>): Promise<void> {
  const list = [...schemas];
  if (list.length === 0) return;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of list) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await c.end();
  }
}

export interface PgTestSchemas {
  /** The server's URL without a schema ($POLYPROV_TEST_PG_URL or the default). */
  readonly url: string;
  /** Why PostgreSQL did not answer, or undefined when it did. */
  readonly why: string | undefined;
  /** The title of the one skipped test a file shows when `why` is set. */
  readonly skipTitle: string;
  /** The storeUrl of a new schema of this file's own (dropped by dropAll). */
  fresh(): string;
  /** The schema names fresh() has handed out, oldest first. */
  readonly names: readonly string[];
  /** Drops every schema fresh() named (nothing when PostgreSQL did not answer). */
  dropAll(): Promise<void>;
}

/** Probes `url` once and, when it answers, hands out schemas `PREFIX_PID_HEX_N`. */
export async function pgTestSchemas(prefix: string, url = TEST_PG_URL): Promise<PgTestSchemas> {
  const why = await pgUnreachable(url);
  if (why) missingPeer('PostgreSQL at 127.0.0.1:5432 (POLYPROV_TEST_PG_URL)', 'postgresql', `not reachable: ${why}`);
  const run = schemaName(prefix);
  const names: string[] = [];
  return {
    url,
    why,
    skipTitle: `PostgreSQL not reachable at ${url} (${why}); set POLYPROV_TEST_PG_URL to run these tests`,
    names,
    fresh() {
      const name = `${run}_${names.length + 1}`;
      names.push(name);
      return schemaUrl(url, name);
    },
    dropAll: () => (why ? Promise.resolve() : dropSchemas(url, names)),
  };
}
