// The change record in SQLite (migration 4): one row per administrative change, newest first.
import type Database from 'better-sqlite3';
import type { ChangeQuery } from '../../domain.ts';
import { CHANGE_COLS, changeFromRow, changeLimit, changeToValues, type ChangeRow } from '../change-rows.ts';
import type { Store } from '../store.ts';

export function sqliteChanges(db: () => Database.Database): Store['changes'] {
  let insert: Database.Statement | undefined;
  let insertDb: Database.Database | undefined;
  return {
    append: async (c) => {
      const d = db();
      if (insertDb !== d) {
        insert = d.prepare(`INSERT INTO changes (${CHANGE_COLS}) VALUES (?, ?, ?, ?, ?, ?)`);
        insertDb = d;
      }
      insert!.run(changeToValues(c));
    },
    appendMany: async (cs) => {
      const d = db();
      if (insertDb !== d) {
        insert = d.prepare(`INSERT INTO changes (${CHANGE_COLS}) VALUES (?, ?, ?, ?, ?, ?)`);
        insertDb = d;
      }
      d.transaction(() => {
        for (const c of cs) insert!.run(changeToValues(c));
      }).immediate();
    },
    query: async (q: ChangeQuery) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.since) {
        where.push('at >= ?');
        args.push(q.since.getTime());
      }
      if (q.target !== undefined) {
        where.push('target = ?');
        args.push(q.target);
      }
      args.push(changeLimit(q));
      const sql = `SELECT ${CHANGE_COLS} FROM changes${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      return (db().prepare(sql).all(...args) as ChangeRow[]).map(changeFromRow);
    },
  };
}
