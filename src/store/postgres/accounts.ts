// Provisioning accounts (HA1 hashes only, never a password) and the small named settings every
// node shares (staging switch, Digest secret) on PostgreSQL.
import { macKey } from '../fold-sighting.ts';
import { accountFromRow, accountToRow, type AccountRow, type Read } from '../rows.ts';
import type { Store } from '../store.ts';
import type { PgConnection } from './connection.ts';

export function pgAccounts(db: PgConnection): Store['accounts'] {
  return {
    get: async (user) => {
      const r = await db.query<Read<AccountRow>>({ name: 'account_get', text: 'SELECT * FROM accounts WHERE user_name = $1', values: [user] });
      return r.rows[0] && accountFromRow(r.rows[0]);
    },
    put: async (a) => {
      const r = accountToRow(a);
      await db.query({
        name: 'account_put',
        text: `INSERT INTO accounts (user_name, kind, realm, ha1_md5, ha1_sha256, mac, created_at, pending, tenant)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (user_name) DO UPDATE SET kind = excluded.kind, realm = excluded.realm, ha1_md5 = excluded.ha1_md5,
                 ha1_sha256 = excluded.ha1_sha256, mac = excluded.mac, created_at = excluded.created_at, pending = excluded.pending,
                 tenant = excluded.tenant`,
        values: [r.user_name, r.kind, r.realm, r.ha1_md5, r.ha1_sha256, r.mac, r.created_at, r.pending === 1, r.tenant],
      });
    },
    remove: async (user) => {
      const r = await db.query({ name: 'account_remove', text: 'DELETE FROM accounts WHERE user_name = $1', values: [user] });
      return (r.rowCount ?? 0) > 0;
    },
    list: async () => {
      const r = await db.query<Read<AccountRow>>({ name: 'account_list', text: 'SELECT * FROM accounts ORDER BY user_name COLLATE "C"' });
      return r.rows.map(accountFromRow);
    },
    forPhone: async (mac) => {
      const r = await db.query<Read<AccountRow>>({
        name: 'account_for_phone',
        text: 'SELECT * FROM accounts WHERE mac = $1 ORDER BY pending ASC, created_at DESC LIMIT 1',
        values: [macKey(mac)],
      });
      return r.rows[0] && accountFromRow(r.rows[0]);
    },
  };
}

export function pgSettings(db: PgConnection): Store['settings'] {
  return {
    get: async (name) => {
      const r = await db.query<{ value: string }>({ name: 'setting_get', text: 'SELECT value FROM settings WHERE name = $1', values: [name] });
      return r.rows[0]?.value;
    },
    set: async (name, value) => {
      if (value === undefined) {
        await db.query({ name: 'setting_delete', text: 'DELETE FROM settings WHERE name = $1', values: [name] });
      } else {
        await db.query({
          name: 'setting_put',
          text: 'INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
          values: [name, value],
        });
      }
    },
  };
}
