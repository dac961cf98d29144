// The phone inventory on PostgreSQL: sightings folded into one row per phone (the same fold as
// SQLite, src/store/fold-sighting.ts) and the last boots of each phone. A batch of sightings is one
// transaction; rows are locked in MAC order, so two nodes recording overlapping batches never
// deadlock.
import type { Mac } from '../../domain.ts';
import { bootVersion, foldSighting, macKey, newPhone, type PhoneState } from '../fold-sighting.ts';
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

async function recordSightings(db: PgConnection, list: Sighting[]): Promise<void> {
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
  await db.tx(async (c) => {
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
    for (const row of rows.rows) {
      let st: PhoneState = phoneStateFromRow(row);
      for (const s of byMac.get(row.mac)!) {
        st = foldSighting(st, s);
        if (s.bootStart) boots.push([row.mac, s.at.getTime(), s.source, s.address, s.stage ?? null, bootVersion(s) ?? null, s.userAgent ?? null]);
      }
      const r = phoneToRow(st);
      await c.query({
        name: 'phone_update',
        text: `UPDATE phones SET model = $2, part_number = $3, app_version = $4, bootrom_version = $5, address = $6, last_source = $7,
                 first_seen = $8, last_seen = $9, last_boot = $10, last_error = $11, sip_user = $12, sip_port = $13,
                 fetched_count = $14, uploaded_count = $15, field_times = $16, master = $17, override_locked = $18 WHERE mac = $1`,
        values: [r.mac, r.model, r.part_number, r.app_version, r.bootrom_version, r.address, r.last_source, r.first_seen, r.last_seen,
          r.last_boot, r.last_error, r.sip_user, r.sip_port, r.fetched_count, r.uploaded_count, r.field_times, r.master, r.override_locked === 1],
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
      for (const mac of new Set(boots.map((b) => b[0]))) {
        await c.query({
          name: 'boots_prune',
          text: `DELETE FROM phone_boots WHERE mac = $1 AND id NOT IN
                 (SELECT id FROM phone_boots WHERE mac = $1 ORDER BY at DESC, id DESC LIMIT $2)`,
          values: [mac, BOOTS_KEPT_PER_PHONE],
        });
      }
    }
  });
}
