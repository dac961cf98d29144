// Issue 13 item 19: `serve` with policy `accounts` and no account prints one warning with the exact
// command that adds one (today every request is a silent 401). Administrator's Guide, Deploying Phones
// From the Boot Server: phones log in with an account the boot server knows.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startServe, type ServeChild } from '../phone/serve-child.ts';
import { polyprov } from './run-cli.ts';
import { startTestServer } from '../support/server.ts';
import { standardTree, tempDir } from '../support/tree.ts';

const root = standardTree();
const children: ServeChild[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
});

async function serveOutput(args: string[]): Promise<string> {
  const s = await startServe(['--root', root, '--log-level', 'error', ...args], ['http']);
  children.push(s);
  // The warnings are written before this line; stdout and stderr are separate pipes, so give stderr a moment.
  for (let i = 0; i < 100 && !s.output().includes('Give the phones'); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  await s.stop();
  return s.output();
}

describe('serve: policy accounts with no account (issue 13 item 19)', () => {
  test('one warning naming the exact command; running that command silences it', async () => {
    const data = join(tempDir('polyprov-warn-'), 'data');
    const out = await serveOutput(['--policy', 'accounts', '--data', data]);
    const warnings = out.split('\n').filter((l) => l.startsWith('warning:') && l.includes('account'));
    expect(warnings).toHaveLength(1);
    const command = /Add one: polyprov (accounts add site --generate --data \S+)/.exec(warnings[0]!)?.[1];
    expect(command, warnings[0]).toBeDefined();
    const add = await polyprov(command!.split(' '));
    expect(add.code, add.stderr).toBe(0);
    const again = await serveOutput(['--policy', 'accounts', '--data', data]);
    expect(again).not.toMatch(/warning:.*account/);
  });

  test('no such warning under policy open, with staging on, or once an account exists', async () => {
    const open = await startTestServer(root, { policy: 'open' });
    const staging = await startTestServer(root, { policy: 'accounts', staging: true });
    const none = await startTestServer(root, { policy: 'accounts' });
    try {
      expect(open.warnings.filter((w) => w.includes('account'))).toEqual([]);
      expect(staging.warnings.filter((w) => w.includes('account'))).toEqual([]);
      expect(none.warnings.filter((w) => w.includes('accounts add'))).toHaveLength(1);
    } finally {
      await Promise.all([open.close(), staging.close(), none.close()]);
    }
  });
});
