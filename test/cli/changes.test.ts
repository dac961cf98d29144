// `polyprov changes`: the change record (issue 12, "Administration through the core": who — the
// OS user for the CLI —, when, what, old and new values with secrets masked), written by the
// core's admin service for every change a CLI command makes, and read back newest first.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { polyprov } from './run-cli.ts';

let dir: string;
let data: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-changes-'));
  data = join(dir, 'data');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Change {
  at: string;
  who: string;
  operation: string;
  target: string;
  old?: Record<string, unknown>;
  new?: Record<string, unknown>;
}

describe('polyprov changes (issue 12, Administration through the core)', () => {
  const first = 'Change-Canary-First-1';
  const second = 'Change-Canary-Second-2';

  test('each change is recorded with the OS user, the operation and target, old and new values; passwords masked', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    expect((await polyprov(['accounts', 'add', 'ops1', '--password-stdin', '--data', data], { input: `${first}\n` })).code).toBe(0);
    expect((await polyprov(['accounts', 'passwd', 'ops1', '--password-stdin', '--data', data], { input: `${second}\n` })).code).toBe(0);
    expect((await polyprov(['staging', 'on', '--data', data])).code).toBe(0);
    expect((await polyprov(['accounts', 'remove', 'ops1', '--data', data])).code).toBe(0);
    // A refused change changes nothing and records nothing.
    expect((await polyprov(['accounts', 'remove', 'ops1', '--data', data])).code).toBe(1);

    const r = await polyprov(['changes', '--json', '--data', data, '--since', before]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Change[];
    expect(list.map((c) => `${c.operation} ${c.target}`)).toEqual(['accounts.remove ops1', 'staging.set staging', 'accounts.passwd ops1', 'accounts.add ops1']);
    for (const c of list) {
      expect(c.who).toBe(userInfo().username);
      expect(Date.parse(c.at)).toBeGreaterThanOrEqual(Date.parse(before));
    }
    const [removed, staging, passwd, added] = list as [Change, Change, Change, Change];
    expect(added.old).toBeUndefined();
    expect(added.new).toMatchObject({ user: 'ops1', kind: 'site', realm: 'polyprov', pending: false, password: '********' });
    expect(passwd.old).toMatchObject({ user: 'ops1', kind: 'site' });
    expect(passwd.new).toMatchObject({ user: 'ops1', password: '********' });
    expect(staging).toMatchObject({ old: { staging: false }, new: { staging: true } });
    expect(removed.old).toMatchObject({ user: 'ops1', kind: 'site' });
    expect(removed.new).toBeUndefined();
    // Neither password (nor any hash) is in the record, its output, or the store's files.
    const files = Buffer.concat(readdirSync(data).filter((f) => f.startsWith('polyprov.db')).map((f) => readFileSync(join(data, f))));
    for (const pw of [first, second]) {
      expect(r.stdout).not.toContain(pw);
      expect(files.includes(Buffer.from(pw))).toBe(false);
    }
    expect(r.stdout).not.toMatch(/ha1/i);
  }, 90_000); // seven CLI processes on a shared machine

  test('--target and --since filter; the text table names who, what and the values', async () => {
    const t = await polyprov(['changes', '--target', 'staging', '--data', data]);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+WHO\s+OPERATION\s+TARGET\s+OLD\s+NEW$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(userInfo().username);
    expect(lines[1]).toContain('staging.set');
    expect(lines[1]).toContain('{"staging":false}');
    const future = await polyprov(['changes', '--json', '--since', '2999-01-01', '--data', data]);
    expect(JSON.parse(future.stdout)).toEqual([]);
    expect((await polyprov(['changes', '--since', 'yesterday', '--data', data])).code).toBe(2);
  }, 60_000);
});
