// What the three-node bench (three-nodes.ts) counts in the store's own tables about its writes
// (issue 16, Speed: "Per boot on a warm cache: zero database reads and at most one write batch
// (count them in the bench)"), read from the rows a storm added rather than from pg_stat alone:
//  - audit rows, and what they are (operation, status, path with the phone's MAC masked), per boot;
//  - the write batches that carried them: the distinct transaction ids (xmin) of the storm's audit
//    rows, in all and per node (a phone's address says which node it booted against);
//  - whether the inventory rows went in those same transactions: phones rows last written by a
//    transaction that wrote no audit row of the storm (the recorder's flush in two transactions);
//  - how long after the storm audit rows kept arriving (a recorder that falls behind).
import type pg from 'pg';

/** The audit's highest id now: the storm's rows are those above it. */
export async function auditMark(c: pg.Client, schema: string): Promise<number> {
  return Number((await c.query(`SELECT coalesce(max(id), 0) AS m FROM ${schema}.audit`)).rows[0].m);
}

/**
 * Waits until the storm's audit rows stop arriving (the same count twice, `stepMs` apart), at most
 * `maxMs`; returns how long after the call the count last grew.
 */
export async function auditSettled(c: pg.Client, schema: string, from: number, maxMs = 60_000, stepMs = 1_000): Promise<{ rows: number; lastGrewMs: number }> {
  const t0 = Date.now();
  const count = async () => Number((await c.query(`SELECT count(*) AS n FROM ${schema}.audit WHERE id > $1`, [from])).rows[0].n);
  let rows = await count();
  let lastGrewMs = 0;
  while (Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, stepMs));
    const n = await count();
    if (n === rows) break;
    rows = n;
    lastGrewMs = Date.now() - t0;
  }
  return { rows, lastGrewMs };
}

/** The load generator's phone index from its loopback source address (storm-tree.ts phoneSourceAddress). */
const PHONE_INDEX = `((split_part(address, '.', 2)::int - 1) * 65536 + split_part(address, '.', 3)::int * 256 + split_part(address, '.', 4)::int - 1)`;

export interface StormWrites {
  auditRows: number;
  /** Audit rows per boot by `op status path` (MAC masked), most first. */
  auditRowsPerBootByKind: Record<string, number>;
  /** Distinct transactions that inserted the storm's audit rows. */
  auditTransactions: number;
  /** The same, per node (phone i booted against node i mod nodes). */
  auditTransactionsPerNode: number[];
  /** Phones rows (of the storm's phones) last written by a transaction that inserted none of the storm's audit rows. */
  phonesRowsOutsideAuditTransactions: number;
  phonesRows: number;
}

export async function stormWrites(c: pg.Client, schema: string, from: number, boots: number, nodes: number): Promise<StormWrites> {
  const kinds = await c.query(
    `SELECT op || ' ' || status || ' ' || regexp_replace(path, '0004f2[0-9a-f]{6}', 'MAC', 'g') AS k, count(*) AS n
       FROM ${schema}.audit WHERE id > $1 GROUP BY 1 ORDER BY 2 DESC, 1`,
    [from],
  );
  const tx = await c.query(`SELECT count(DISTINCT xmin::text) AS n, count(*) AS rows FROM ${schema}.audit WHERE id > $1`, [from]);
  const perNode = await c.query(
    `SELECT ${PHONE_INDEX} % $2 AS node, count(DISTINCT xmin::text) AS n FROM ${schema}.audit WHERE id > $1 AND address LIKE '127.%' GROUP BY 1 ORDER BY 1`,
    [from, nodes],
  );
  const phones = await c.query(
    `SELECT count(*) FILTER (WHERE xmin::text NOT IN (SELECT DISTINCT xmin::text FROM ${schema}.audit WHERE id > $1)) AS outside, count(*) AS n
       FROM ${schema}.phones WHERE mac IN (SELECT DISTINCT mac FROM ${schema}.audit WHERE id > $1)`,
    [from],
  );
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const byNode = Array.from({ length: nodes }, (_, i) => Number((perNode.rows as Array<{ node: number; n: string }>).find((r) => Number(r.node) === i)?.n ?? 0));
  return {
    auditRows: Number(tx.rows[0].rows),
    auditRowsPerBootByKind: Object.fromEntries((kinds.rows as Array<{ k: string; n: string }>).map((r) => [r.k, r2(Number(r.n) / boots)])),
    auditTransactions: Number(tx.rows[0].n),
    auditTransactionsPerNode: byNode,
    phonesRowsOutsideAuditTransactions: Number(phones.rows[0].outside),
    phonesRows: Number(phones.rows[0].n),
  };
}
