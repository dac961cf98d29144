import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { generateKey, keyText, loadSecretKey, parseKeyText } from './secret-key.ts';
import { thrown } from '../../test/support/thrown.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pp-key-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const hex = 'ab'.repeat(32);

describe('the secret key (issue 14, Secrets: POLYPROV_SECRET_KEY, secretKeyFile, <data>/secret.key)', () => {
  test('issue 14 Secrets: POLYPROV_SECRET_KEY as 64 hex or base64 of 32 bytes wins over a key file', () => {
    const d = tmp();
    const file = join(d, 'other.key');
    writeFileSync(file, keyText(Buffer.alloc(32, 1)), { mode: 0o600 });
    const a = loadSecretKey({ envValue: hex, keyFile: file, dataDir: d, embedded: true });
    expect(a).toEqual({ key: Buffer.from(hex, 'hex'), source: 'POLYPROV_SECRET_KEY', created: false });
    const b64 = Buffer.alloc(32, 5).toString('base64');
    expect(loadSecretKey({ envValue: b64, dataDir: d, embedded: false }).key).toEqual(Buffer.alloc(32, 5));
    expect(loadSecretKey({ envValue: Buffer.alloc(32, 0xfb).toString('base64url'), dataDir: d, embedded: false }).key).toEqual(Buffer.alloc(32, 0xfb));
  });

  test('issue 14 Secrets: a malformed POLYPROV_SECRET_KEY is refused without echoing it', () => {
    const e = thrown(() => loadSecretKey({ envValue: 'tooshort-secret-text', dataDir: tmp(), embedded: true }));
    expect(e.code).toBe('PP_FLEET_KEY_MISSING');
    expect(e.message).not.toContain('tooshort-secret-text');
    expect(parseKeyText(Buffer.alloc(16).toString('base64'))).toBeUndefined();
  });

  test('issue 14 Secrets: the secretKeyFile option is read (text or 32 raw bytes); a missing one is an error', () => {
    const d = tmp();
    const file = join(d, 'k');
    writeFileSync(file, `${hex}\n`, { mode: 0o600 });
    expect(loadSecretKey({ keyFile: file, dataDir: d, embedded: false })).toEqual({ key: Buffer.from(hex, 'hex'), source: file, created: false });
    writeFileSync(file, Buffer.alloc(32, 0x0a), { mode: 0o600 });
    expect(loadSecretKey({ keyFile: file, dataDir: d, embedded: false }).key).toEqual(Buffer.alloc(32, 0x0a));
    expect(thrown(() => loadSecretKey({ keyFile: join(d, 'nope'), dataDir: d, embedded: true })).code).toBe('PP_FLEET_KEY_MISSING');
  });

  test('issue 14 Secrets: on the embedded store the first start creates <data>/secret.key with mode 0600, later starts read it', () => {
    const d = join(tmp(), 'data');
    const first = loadSecretKey({ dataDir: d, embedded: true });
    expect(first.created).toBe(true);
    expect(first.source).toBe(join(d, 'secret.key'));
    expect(statSync(first.source).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.source, 'utf8').trim()).toBe(keyText(first.key));
    const second = loadSecretKey({ dataDir: d, embedded: true });
    expect(second).toEqual({ key: first.key, source: first.source, created: false });
  });

  test('issue 14 Secrets: on PostgreSQL (not embedded) with no key → PP_FLEET_KEY_MISSING naming the fix; nothing created', () => {
    const d = tmp();
    const e = thrown(() => loadSecretKey({ dataDir: d, embedded: false }));
    expect(e.code).toBe('PP_FLEET_KEY_MISSING');
    expect(e.message).toContain('POLYPROV_SECRET_KEY');
    expect(e.hint).toContain('openssl rand -hex 32');
    expect(() => statSync(join(d, 'secret.key'))).toThrow();
  });

  test('issue 14 Secrets: a key file readable by group or others is refused (like PP_DATA_DIR_OPEN)', () => {
    const d = tmp();
    const file = join(d, 'secret.key');
    writeFileSync(file, hex, { mode: 0o600 });
    chmodSync(file, 0o640);
    const e = thrown(() => loadSecretKey({ dataDir: d, embedded: true }));
    expect(e.code).toBe('PP_FLEET_KEY_MISSING');
    expect(e.message).toContain('0640');
    expect(e.hint).toBe(`Fix: chmod 600 ${file}`);
    expect(thrown(() => loadSecretKey({ keyFile: file, dataDir: d, embedded: false })).code).toBe('PP_FLEET_KEY_MISSING');
  });

  test('issue 14 Secrets: a key file holding something else is refused', () => {
    const d = tmp();
    writeFileSync(join(d, 'secret.key'), 'hello\n', { mode: 0o600 });
    expect(thrown(() => loadSecretKey({ dataDir: d, embedded: true })).code).toBe('PP_FLEET_KEY_MISSING');
  });

  test('issue 14 Secrets: generated keys are 32 random bytes; keyText round-trips through parseKeyText', () => {
    const a = generateKey();
    expect(a.length).toBe(32);
    expect(generateKey().equals(a)).toBe(false);
    expect(parseKeyText(keyText(a))).toEqual(a);
  });
});
