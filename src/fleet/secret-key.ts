// Where the secret box's key comes from (issue 14, Secrets): POLYPROV_SECRET_KEY (64 hex digits
// or base64 of 32 bytes) wins, else the secretKeyFile option, else `<data>/secret.key`, which the
// embedded store's first start creates with mode 0600. On PostgreSQL every node must be given the
// same key, so none is made up there. A key file its group or others may read is refused, as the
// data directory is (PP_DATA_DIR_OPEN). The key itself never appears in a message.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvError } from '../errors.ts';

export const SECRET_KEY_FILE = 'secret.key';
export const SECRET_KEY_ENV = 'POLYPROV_SECRET_KEY';

const FIX = `Generate a key once (\`openssl rand -hex 32\`), give the same key to every node (${SECRET_KEY_ENV} or the secretKeyFile option), and back it up.`;

export interface LoadedKey {
  key: Buffer;
  /** `POLYPROV_SECRET_KEY` or the key file's path. */
  source: string;
  /** Whether this call created `<data>/secret.key`. */
  created: boolean;
}

/** A fresh random 32-byte key. */
export function generateKey(): Buffer {
  return randomBytes(32);
}

/** A key's text form, as written to a key file: 64 lowercase hex digits. */
export function keyText(key: Buffer): string {
  return key.toString('hex');
}

/** Parses 64 hex digits or base64/base64url of 32 bytes; undefined for anything else. */
export function parseKeyText(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t) || /^[A-Za-z0-9_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replace(/=$/, ''), t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

function unusable(where: string): ProvError {
  return new ProvError('PP_FLEET_KEY_MISSING', `${where} does not hold a usable secret key: it must be 64 hex digits or the base64 of 32 bytes`, { hint: FIX });
}

/** Reads a key file, refusing one that its group or others may read. */
function readKeyFile(path: string): Buffer {
  const st = statSync(path);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ProvError(
      'PP_FLEET_KEY_MISSING',
      `the secret key file ${path} has mode ${mode.toString(8).padStart(4, '0')}: its group or others may read the key that opens every stored password; refusing to use it.`,
      { hint: `Fix: chmod 600 ${path}` },
    );
  }
  const raw = readFileSync(path);
  const key = parseKeyText(raw.toString('latin1')) ?? (raw.length === 32 ? Buffer.from(raw) : undefined);
  if (!key) throw unusable(`the secret key file ${path}`);
  return key;
}

/**
 * The key the fleet seals secrets with. `embedded`: the store is the data directory's own
 * (SQLite), so a missing key is created there; otherwise (PostgreSQL) it is PP_FLEET_KEY_MISSING.
 */
export function loadSecretKey(o: { envValue?: string; keyFile?: string; dataDir: string; embedded: boolean }): LoadedKey {
  if (o.envValue !== undefined && o.envValue.trim() !== '') {
    const key = parseKeyText(o.envValue);
    if (!key) throw unusable(SECRET_KEY_ENV);
    return { key, source: SECRET_KEY_ENV, created: false };
  }
  if (o.keyFile !== undefined && o.keyFile !== '') {
    const path = resolve(o.keyFile);
    try {
      return { key: readKeyFile(path), source: path, created: false };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ProvError('PP_FLEET_KEY_MISSING', `the secret key file ${path} (secretKeyFile) does not exist`, { hint: FIX });
      throw e;
    }
  }
  const path = join(resolve(o.dataDir), SECRET_KEY_FILE);
  try {
    return { key: readKeyFile(path), source: path, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!o.embedded) {
    throw new ProvError(
      'PP_FLEET_KEY_MISSING',
      `no secret key: with a PostgreSQL store every node must be given the same key (${SECRET_KEY_ENV} or the secretKeyFile option); none is created, since a key made on one node could not open what another sealed`,
      { hint: FIX },
    );
  }
  mkdirSync(resolve(o.dataDir), { recursive: true, mode: 0o700 });
  const key = generateKey();
  try {
    // 'wx': two processes starting at once never overwrite each other's key; the loser reads it.
    writeFileSync(path, `${keyText(key)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { key: readKeyFile(path), source: path, created: false };
    throw e;
  }
  return { key, source: path, created: true };
}
