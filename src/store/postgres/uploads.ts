// Uploaded overrides, contact directories, call lists and logs on PostgreSQL, with their history.
// The bytes arrive in a TempUpload (src/store/upload-temp.ts); commit makes them the current
// version in one transaction, so a database that goes away mid-upload leaves the previous
// version current. Writers of one upload key (MAC, kind and path; possibly on different nodes) are serialised by a
// transaction-scoped advisory lock: concurrent commits end with whole versions, last one wins.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Mac } from '../../domain.ts';
import { ProvError } from '../../errors.ts';
import { macKey } from '../fold-sighting.ts';
import { num, VERSION_COLS, type Read, type VersionRow } from '../rows.ts';
import type { Store, StoredFile, UploadKind } from '../store.ts';
import { TempUpload, TempUploadSink, uploadFailed, versionContent } from '../upload-temp.ts';
import { limitOf, type PgConnection } from './connection.ts';
import { LOCK_NS } from './schema.ts';

export function pgUploads(db: PgConnection, tmpDir: string): Store['uploads'] {
  const stored = (row: Read<VersionRow>) => storedFile(db, row);
  return {
    begin: async (key, opts) => new TempUploadSink(await TempUpload.create(tmpDir, key, opts), (t, r, l) => commitUpload(db, t, r, l)),
    current: async (key) => {
      const row = await currentWithContent(db, macKey(key.mac), key.kind, key.path);
      return row && stored(row);
    },
    history: async (key, n) => {
      const r = await db.query<Read<VersionRow>>({
        name: 'version_history',
        text: `SELECT ${VERSION_COLS} FROM upload_versions WHERE mac = $1 AND kind = $2 AND path = $3 ORDER BY version DESC LIMIT $4`,
        values: [macKey(key.mac), key.kind, key.path, limitOf(n, 1000)],
      });
      return r.rows.map(stored);
    },
    listForPhone: async (mac) => {
      const r = await db.query<Read<VersionRow>>({
        name: 'version_current_for_phone',
        text: `SELECT ${VERSION_COLS} FROM upload_versions v WHERE mac = $1
               AND version = (SELECT max(version) FROM upload_versions w WHERE w.mac = v.mac AND w.kind = v.kind AND w.path = v.path) ORDER BY kind COLLATE "C", path COLLATE "C"`,
        values: [macKey(mac)],
      });
      return r.rows.map(stored);
    },
    clear: async (key) => {
      await db.tx(async (c) => {
        await lockKey(c, macKey(key.mac), key.kind, key.path);
        await c.query({ name: 'version_clear', text: 'DELETE FROM upload_versions WHERE mac = $1 AND kind = $2 AND path = $3', values: [macKey(key.mac), key.kind, key.path] });
      });
    },
  };
}

/** Called by the sink: makes the received bytes the new current version, in one transaction. */
async function commitUpload(db: PgConnection, temp: TempUpload, received: Buffer, locked: boolean): Promise<StoredFile> {
  const { key, opts } = temp;
  const mac = macKey(key.mac);
  try {
    const row = await db.tx(async (c) => {
      await lockKey(c, mac, key.kind, key.path);
      const cur = opts.mode === 'append' ? await currentWithContent(c, mac, key.kind, key.path) : undefined;
      const content = versionContent(opts, received, cur?.content);
      const top = await c.query<{ v: number | null }>({
        name: 'version_max',
        text: 'SELECT max(version) AS v FROM upload_versions WHERE mac = $1 AND kind = $2 AND path = $3',
        values: [mac, key.kind, key.path],
      });
      const version = (top.rows[0]?.v ?? 0) + 1;
      const row: VersionRow = {
        id: 0, mac, kind: key.kind, path: key.path, version, size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'), stored_at: Date.now(), address: opts.address,
        locked: locked ? 1 : 0, tree_version: opts.treeVersion ?? null, content,
      };
      const ins = await c.query<{ id: string }>({
        name: 'version_insert',
        text: `INSERT INTO upload_versions (mac, kind, path, version, size, sha256, stored_at, address, locked, tree_version, content)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
        values: [row.mac, row.kind, row.path, row.version, row.size, row.sha256, row.stored_at, row.address, locked, row.tree_version, content],
      });
      row.id = num(ins.rows[0]!.id);
      await c.query({
        name: 'version_prune',
        text: 'DELETE FROM upload_versions WHERE mac = $1 AND kind = $2 AND path = $3 AND version <= $4',
        values: [mac, key.kind, key.path, version - Math.max(1, opts.keepVersions)],
      });
      return row;
    });
    return storedFile(db, row);
  } catch (err) {
    // PP_STORE_UNAVAILABLE passes through (the phone is told to retry); anything else is PP_UPLOAD_FAILED.
    throw uploadFailed(key, err);
  }
}

function storedFile(db: PgConnection, row: Read<VersionRow>): StoredFile {
  const content = row.content;
  const id = num(row.id);
  return {
    key: { mac: row.mac as Mac, kind: row.kind as UploadKind, path: row.path },
    version: num(row.version),
    size: num(row.size),
    sha256: row.sha256,
    storedAt: new Date(num(row.stored_at)),
    address: row.address,
    locked: row.locked === true || row.locked === 1,
    ...(row.tree_version !== null && row.tree_version !== undefined ? { treeVersion: row.tree_version } : {}),
    read: async () => {
      if (content) return content;
      const r = await db.query<{ content: Buffer }>({ name: 'version_content', text: 'SELECT content FROM upload_versions WHERE id = $1', values: [id] });
      if (!r.rows[0]) throw new ProvError('PP_NOT_FOUND', `version ${row.version} of ${row.path} was pruned or cleared`);
      return r.rows[0].content;
    },
  };
}

/** The newest version with its bytes, on the pool or inside the caller's transaction. */
async function currentWithContent(q: PgConnection | pg.PoolClient, mac: string, kind: string, path: string): Promise<Read<VersionRow> | undefined> {
  const r = await (q as PgConnection).query<Read<VersionRow>>({
    name: 'version_current',
    text: `SELECT ${VERSION_COLS}, content FROM upload_versions WHERE mac = $1 AND kind = $2 AND path = $3 ORDER BY version DESC LIMIT 1`,
    values: [mac, kind, path],
  });
  return r.rows[0];
}

/** Serialises writers of one upload key until the transaction ends (on every node). */
async function lockKey(c: pg.PoolClient, mac: string, kind: string, path: string): Promise<void> {
  const h = createHash('sha256').update(`${mac}/${kind}/${path}`).digest().readInt32BE(0);
  await c.query({ name: 'lock_key', text: 'SELECT pg_advisory_xact_lock($1::int, $2::int)', values: [LOCK_NS, h] });
}
