// The data directory (issue 13 items 12 and 21): it holds password hashes and overrides, so it
// is created 0700 and a directory open to its group or others is refused with the fix in the
// message, by `serve` and every state command; and read-only state commands pointed at a
// directory with no state say so (exit 1) instead of creating an empty store.
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { standardTree } from '../support/tree.ts';
import { polyprov } from './run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'polyprov-cli-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('issue 13 item 21: read-only state commands never create state', () => {
  test('phones, audit and overrides list against a missing directory exit 1, say so, and create nothing', async () => {
    const missing = join(dir, 'no-such-data');
    for (const args of [['phones'], ['audit'], ['overrides', 'list']]) {
      const r = await polyprov([...args, '--data', missing]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain('PP_STATE_MISSING');
      expect(r.stderr).toContain(missing);
      expect(r.stdout).toBe('');
      expect(existsSync(missing)).toBe(false);
    }
  }, 90_000);

  test('an existing directory without state: exit 1 and still no store in it', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const r = await polyprov(['phones', '--json', '--data', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PP_STATE_MISSING');
    expect(readdirSync(empty)).toEqual([]);
  }, 30_000);
});

describe('issue 13 item 12: the data directory is 0700, and one open to others is refused', () => {
  const data = () => join(dir, 'data');

  test('a data directory polyprov creates is mode 0700', async () => {
    const r = await polyprov(['accounts', 'add', 'site1', '--generate', '--data', data()]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(data()).mode & 0o777).toBe(0o700);
  }, 30_000);

  test('group- or world-readable: state commands and serve refuse with the chmod that fixes it', async () => {
    chmodSync(data(), 0o755);
    const phones = await polyprov(['phones', '--data', data()]);
    expect(phones.code).toBe(3);
    expect(phones.stderr).toContain('PP_DATA_DIR_OPEN');
    expect(phones.stderr).toContain(`chmod 700 ${data()}`);
    const serve = await polyprov(['serve', '--root', standardTree(), '--data', data(), '--http', '127.0.0.1:0']);
    expect(serve.code).toBe(3); // refused before listening (the run would otherwise never end)
    expect(serve.stderr).toContain('PP_DATA_DIR_OPEN');
    chmodSync(data(), 0o750);
    expect((await polyprov(['accounts', 'list', '--data', data()])).code).toBe(3);
    chmodSync(data(), 0o700);
    const ok = await polyprov(['phones', '--data', data()]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 90_000);
});
