// The phone inventory on PostgreSQL: sightings folded into one row per phone (the same fold as
// SQLite, src/store/fold-sighting.ts) and the last boots of each phone. A batch of sightings is one
// transaction (with the flush's audit rows when the recorder writes them, audit.ts record); rows
// are locked in MAC order, so two nodes recording overlapping batches never deadlock.
import type pg from 'pg';
import type { Mac } from '../../domain.ts';
import { bootVersion, foldSightingInto, macKey, newPhone, type PhoneState } from '../fold-sighting.ts';
import { bootFromRow, phoneFromRow, phoneStateFromRow, phoneToRow, type BootRow, type PhoneRow, type Read } from '../rows.ts';
import type { PhoneQuery, Sighting, Store } from '../store.ts';
import { limitOf, type PgConnection } from './connection.ts';
import { BOOTS_KEPT_PER_PHONE } from './migrations.ts';

export const MAX_QUERY_ROWS = 100_000;

export function pgPhones(db: PgConnection): Store['phones'] {
  return {
    recordSighting: (s) => recordSightings(db, [s]),
    recordSightings: (list) => recordSightings(db, list),
    get: async (mac) => {
      const r = await db.query<Read<PhoneRow>>({ name: 'phone_get', text: 'SELECT * FROM phones WHERE mac = $1', values: [macKey(mac)] });
      return r.rows[0] && phoneFromRow(r.rows[0]);
    },
    list: async (q: PhoneQuery = {}) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.macPrefix) {
        args.push(`${macKey(q.macPrefix)}%`); // hex digits only: no LIKE wildcard can sneak in
        where.push(`mac LIKE $${args.length}`);
      }
      if (q.seenSince) {
        args.push(q.seenSince.getTime());
        where.push(`last_seen >= $${args.length}`);
      }
      args.push(limitOf(q.limit, MAX_QUERY_ROWS));
      const sql = `SELECT * FROM phones${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY mac COLLATE "C" LIMIT $${args.length}`;
      return (await db.query<Read<PhoneRow>>(sql, args)).rows.map(phoneFromRow);
    },
    setOverrideLocked: async (mac, locked) => {
      await db.query({ name: 'phone_set_locked', text: 'UPDATE phones SET override_locked = $1 WHERE mac = $2 AND override_locked IS DISTINCT FROM $1', values: [locked, macKey(mac)] });
    },
    boots: async (mac, limit) => {
      const r = await db.query<Read<BootRow>>({
        name: 'boots_get',
        text: 'SELECT at, source, address, stage, version, user_agent FROM phone_boots WHERE mac = $1 ORDER BY at DESC, id DESC LIMIT $2',
        values: [macKey(mac), limitOf(limit, BOOTS_KEPT_PER_PHONE)],
      });
      return r.rows.map(bootFromRow);
    },
  };
}

function recordSightings(db: PgConnection, list: Sighting[]): Promise<void> {
  if (list.length === 0) return Promise.resolve();
  return db.tx((c) => foldSightings(c, list));
}

/** phoneToRow's columns in the order of the set-based UPDATE below, with their SQL array types. */
const UPDATE_COLS = [
  ['mac', 'text'], ['model', 'text'], ['part_number', 'text'], ['app_version', 'text'], ['bootrom_version', 'text'], ['address', 'text'],
  ['last_source', 'text'], ['first_seen', 'bigint'], ['last_seen', 'bigint'], ['last_boot', 'bigint'], ['last_error', 'text'],
  ['sip_user', 'text'], ['sip_port', 'integer'], ['fetched_count', 'bigint'], ['uploaded_count', 'bigint'], ['field_times', 'text'],
  ['master', 'text'], ['override_locked', 'boolean'],
] as const satisfies ReadonlyArray<readonly [keyof PhoneRow, string]>;
const PHONES_UPDATE = `UPDATE phones AS p SET ${UPDATE_COLS.slice(1).map(([k]) => `${k} = u.${k}`).join(', ')}
  FROM unnest(${UPDATE_COLS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) AS u(${UPDATE_COLS.map(([k]) => k).join(', ')})
  WHERE p.mac = u.mac`;

/**
 * Folds a batch of sightings into the inventory inside the caller's transaction `c` (issue 16,
 * Speed: a recorder flush is one write batch, audit.ts puts its audit rows in the same one). A
 * constant number of statements whatever the batch holds: seed the new rows, lock every row in
 * MAC order, ONE set-based UPDATE of the rows the fold changed (one row version per phone per
 * batch), and for boot starts one insert and one prune. It was one UPDATE (a round trip, with
 * every row lock held) per phone and one prune per booted phone.
 */
export async function foldSightings(c: pg.ClientBase, list: Sighting[]): Promise<void> {
  if (list.length === 0) return;
  const byMac = new Map<string, Sighting[]>();
  for (const s of list) {
    const mac = macKey(s.mac);
    const l = byMac.get(mac) ?? [];
    l.push({ ...s, mac: mac as Mac });
    byMac.set(mac, l);
  }
  // Sorted, so two nodes recording overlapping batches lock rows in the same order (no deadlock).
  const macs = [...byMac.keys()].sort();
  // Make sure every row exists, then lock them all. A new row starts as newPhone(earliest
  // sighting), which folds exactly like "never seen" (see foldSighting).
  const seeds = macs.map((m) => newPhone(byMac.get(m)!.reduce((a, b) => (b.at < a.at ? b : a))));
  await c.query({
    name: 'phones_seed',
    text: `INSERT INTO phones (mac, first_seen, last_seen) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
           ON CONFLICT (mac) DO NOTHING`,
    values: [seeds.map((p) => p.mac), seeds.map((p) => p.firstSeen.getTime()), seeds.map((p) => p.lastSeen.getTime())],
  });
  const rows = await c.query<Read<PhoneRow>>({ name: 'phones_lock', text: 'SELECT * FROM phones WHERE mac = ANY($1) ORDER BY mac FOR UPDATE', values: [macs] });
  const boots: Array<[string, number, string, string, string | null, string | null, string | null]> = [];
  const changed: PhoneRow[] = [];
  for (const row of rows.rows) {
    const before = phoneStateFromRow(row);
    // One copy of the row, folded in place by every sighting of the batch.
    const st: PhoneState = { phone: { ...before.phone }, times: { ...before.times } };
    for (const s of byMac.get(row.mac)!) {
      foldSightingInto(st, s);
      if (s.bootStart) boots.push([row.mac, s.at.getTime(), s.source, s.address, s.stage ?? null, bootVersion(s) ?? null, s.userAgent ?? null]);
    }
    const r = phoneToRow(st);
    if (JSON.stringify(r) !== JSON.stringify(phoneToRow(before))) changed.push(r);
  }
  if (changed.length) {
    await c.query({
      name: 'phones_update',
      text: PHONES_UPDATE,
      values: UPDATE_COLS.map(([k]) => changed.map((r) => (k === 'override_locked' ? r.override_locked === 1 : r[k]))),
    });
  }
  if (boots.length) {
    const col = (i: number) => boots.map((b) => b[i]);
    await c.query({
      name: 'boots_insert',
      text: `INSERT INTO phone_boots (mac, at, source, address, stage, version, user_agent)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      values: [col(0), col(1), col(2), col(3), col(4), col(5), col(6)],
    });
    await c.query({
      name: 'boots_prune_many',
      text: `DELETE FROM phone_boots WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY mac ORDER BY at DESC, id DESC) AS n
             FROM phone_boots WHERE mac = ANY($1)) k WHERE k.n > $2)`,
      values: [[...new Set(col(0))], BOOTS_KEPT_PER_PHONE],
    });
  }
}
