// `polyprov accounts` run as a child process against a temp --data directory.
// Issue 4, Access policy: "passwords are stored as salted hashes suitable for Digest (HA1 per
// realm) and never printed"; RFC 7616 §3.4.2 (HA1).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ha1 } from '../../src/core/digest.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov } from './run-cli.ts';

let dir: string;
let data: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-accounts-'));
  data = join(dir, 'data');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function account(user: string, dataDir = data) {
  const store = await openStore({ data: dataDir, storeUrl: 'sqlite' });
  try {
    return await store.accounts.get(user);
  } finally {
    await store.close();
  }
}

/** Every file of the data directory, to prove a password never landed on disk. */
function dataBytes(dataDir = data): Buffer {
  return Buffer.concat(readdirSync(dataDir).filter((f) => f.startsWith('polyprov.db')).map((f) => readFileSync(join(dataDir, f))));
}

describe('polyprov accounts (issue 4, Access policy)', () => {
  const pw = 'Stdin-Password-Canary-1';

  test('add --password-stdin stores HA1 for the realm (MD5 and SHA-256) and prints neither password nor hash', async () => {
    const r = await polyprov(['accounts', 'add', 'site1', '--password-stdin', '--data', data], { input: `${pw}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = await account('site1');
    expect(a).toMatchObject({ user: 'site1', kind: 'site', realm: 'polyprov' });
    expect(a!.ha1Md5).toBe(ha1('MD5', 'site1', 'polyprov', pw)); // the trailing newline is not part of it
    expect(a!.ha1Sha256).toBe(ha1('SHA-256', 'site1', 'polyprov', pw));
    for (const s of [r.stdout, r.stderr]) {
      expect(s).not.toContain(pw);
      expect(s).not.toContain(a!.ha1Md5);
    }
    expect(dataBytes().includes(Buffer.from(pw))).toBe(false);
  });

  test('add --generate prints the generated password once, on stdout, and it is the one stored', async () => {
    const r = await polyprov(['accounts', 'add', 'p-0004f2000001', '--phone', '00:04:F2:00:00:01', '--generate', '--data', data]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(1);
    const generated = lines[0]!;
    expect(generated).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(r.stderr).not.toContain(generated);
    const a = await account('p-0004f2000001');
    expect(a).toMatchObject({ kind: 'phone', mac: '0004f2000001' });
    expect(a!.ha1Md5).toBe(ha1('MD5', 'p-0004f2000001', 'polyprov', generated));
    const again = await polyprov(['accounts', 'list', '--json', '--data', data]);
    expect(again.stdout).not.toContain(generated);
  });

  test('add --generate --json carries the password once in the JSON, and no hash', async () => {
    const r = await polyprov(['accounts', 'add', 'stage1', '--kind', 'staging', '--generate', '--json', '--data', data]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ user: 'stage1', kind: 'staging', realm: 'polyprov' });
    const a = await account('stage1');
    expect(a!.ha1Sha256).toBe(ha1('SHA-256', 'stage1', 'polyprov', j.password as string));
    expect(r.stdout).not.toContain(a!.ha1Sha256);
    expect(r.stdout).not.toContain(a!.ha1Md5);
  });

  test('list (text and --json) shows accounts without passwords or hashes', async () => {
    const t = await polyprov(['accounts', 'list', '--data', data]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^USER\s+KIND\s+PHONE\s+TENANT\s+REALM/);
    expect(t.stdout).toMatch(/p-0004f2000001\s+phone\s+0004f2000001\s+default\s+polyprov/); // issue 14: every account has a tenant
    expect(t.stdout).toMatch(/site1\s+site\s+-\s+default\s+polyprov/);
    const j = await polyprov(['accounts', 'list', '--json', '--data', data]);
    const list = JSON.parse(j.stdout) as Array<Record<string, unknown>>;
    expect(list.map((a) => a.user)).toEqual(['p-0004f2000001', 'site1', 'stage1']);
    for (const a of list) for (const k of Object.keys(a)) expect(k.toLowerCase()).not.toContain('ha1');
    const s = await account('site1');
    expect(j.stdout).not.toContain(s!.ha1Md5);
    expect(j.stdout).not.toContain(pw);
  });

  test('passwd re-hashes for the realm; an unknown account exits 1', async () => {
    const r = await polyprov(['accounts', 'passwd', 'site1', '--password-stdin', '--data', data], { input: 'New-Password-2' });
    expect(r.code).toBe(0);
    expect((await account('site1'))!.ha1Md5).toBe(ha1('MD5', 'site1', 'polyprov', 'New-Password-2'));
    const missing = await polyprov(['accounts', 'passwd', 'nobody', '--password-stdin', '--data', data], { input: 'x' });
    expect(missing.code).toBe(1);
  });

  test('the realm comes from the server options (--config)', async () => {
    const cfg = join(dir, 'polyprov.json');
    const data2 = join(dir, 'data2');
    writeFileSync(cfg, JSON.stringify({ realm: 'corp-phones', data: 'data2' }));
    const r = await polyprov(['accounts', 'add', 'site2', '--password-stdin', '--config', cfg], { input: 'pw' });
    expect(r.code).toBe(0);
    const a = await account('site2', data2);
    expect(a!.realm).toBe('corp-phones');
    expect(a!.ha1Md5).toBe(ha1('MD5', 'site2', 'corp-phones', 'pw'));
    // Under another realm the account shows as needing a new password.
    const t = await polyprov(['accounts', 'list', '--data', data2]);
    expect(t.stdout).toMatch(/site2 .*other realm/);
  });

  test('remove deletes the account; removing it again exits 1', async () => {
    expect((await polyprov(['accounts', 'remove', 'stage1', '--data', data])).code).toBe(0);
    expect(await account('stage1')).toBeUndefined();
    expect((await polyprov(['accounts', 'remove', 'stage1', '--data', data])).code).toBe(1);
  });

  test('adding an existing account exits 1 and changes nothing', async () => {
    const before = await account('site1');
    const r = await polyprov(['accounts', 'add', 'site1', '--password-stdin', '--data', data], { input: 'other' });
    expect(r.code).toBe(1);
    expect(await account('site1')).toEqual(before);
  });

  test('usage errors exit 2: no password, both sources, empty stdin, bad MAC, phone kind without MAC, ":" in the user', async () => {
    const cases: Array<[string[], string?]> = [
      [['accounts', 'add', 'u1']],
      [['accounts', 'add', 'u1', '--password-stdin', '--generate'], 'pw'],
      [['accounts', 'add', 'u1', '--password-stdin'], ''],
      [['accounts', 'add', 'u1', '--password-stdin'], '\n'],
      [['accounts', 'add', 'u1', '--password-stdin'], 'two\nlines\n'],
      [['accounts', 'add', 'u1', '--phone', 'nonsense', '--generate']],
      [['accounts', 'add', 'u1', '--kind', 'phone', '--generate']],
      [['accounts', 'add', 'u1', '--kind', 'site', '--phone', '0004f2000009', '--generate']],
      [['accounts', 'add', 'u1', '--kind', 'bogus', '--generate']],
      [['accounts', 'add', 'a:b', '--generate']],
      [['accounts', 'passwd', 'site1']],
    ];
    for (const [args, input] of cases) {
      const r = await polyprov([...args, '--data', data], { input });
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(await account('u1')).toBeUndefined();
  }, 120_000); // eleven CLI processes, one after another, on a shared machine
});
