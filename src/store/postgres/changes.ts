// The change record in PostgreSQL (migration 4): the same rows and order as SQLite's.
import type { ChangeQuery } from '../../domain.ts';
import { CHANGE_COLS, changeFromRow, changeLimit, changeToValues, type ChangeRow } from '../change-rows.ts';
import type { Store } from '../store.ts';
import type { PgConnection } from './connection.ts';

export function pgChanges(db: PgConnection): Store['changes'] {
  return {
    append: async (c) => {
      await db.query({ name: 'change_insert', text: `INSERT INTO changes (${CHANGE_COLS}) VALUES ($1, $2, $3, $4, $5, $6)`, values: changeToValues(c) });
    },
    appendMany: async (cs) => {
      if (cs.length === 0) return;
      // One transaction; multi-row INSERTs of up to 1,000 rows (ids follow the rows' order).
      await db.tx(async (client) => {
        for (let i = 0; i < cs.length; i += 1000) {
          const part = cs.slice(i, i + 1000);
          const values: unknown[] = [];
          const rows = part.map((c) => {
            const v = changeToValues(c);
            const at = values.length;
            values.push(...v);
            return `(${v.map((_, j) => `$${at + j + 1}`).join(', ')})`;
          });
          await client.query(`INSERT INTO changes (${CHANGE_COLS}) VALUES ${rows.join(', ')}`, values);
        }
      });
    },
    query: async (q: ChangeQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.since) {
        args.push(q.since.getTime());
        where.push(`at >= $${args.length}`);
      }
      if (q.target !== undefined) {
        args.push(q.target);
        where.push(`target = $${args.length}`);
      }
      args.push(changeLimit(q));
      const sql = `SELECT ${CHANGE_COLS} FROM changes${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${args.length}`;
      return (await db.query<ChangeRow>(sql, args)).rows.map(changeFromRow);
    },
  };
}
