// Issue 13 item 8 with a real client: TFTP carries no credentials, so a phone bound to its own
// account is neither served nor written over TFTP, even from a network in tftpSecretAllow
// (loopback here), unless tftpBoundPhones says so; and `polyprov serve` states at start what
// TFTP bypasses. tftp-hpa against the whole server on 127.0.0.1.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { requirePeer } from '../support/peers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree, tempDir } from '../support/tree.ts';
import { startServe } from '../phone/serve-child.ts';
import { run } from './helpers.ts';

const HAVE_TFTP = requirePeer('tftp', 'tftp-hpa');

async function serverWith(opts: { tftpBoundPhones: boolean }): Promise<{ srv: TestServer; port: number }> {
  const srv = await startTestServer(standardTree(), { policy: 'accounts', realm: 'polyprov', tftp: '127.0.0.1:0', tftpWorkers: 0, ...opts });
  await srv.store.accounts.put(makeAccount('phone', 'p1', 'p1-pw', 'polyprov', MAC1 as Mac));
  return { srv, port: srv.listening.find((l) => l.transport === 'tftp')!.port };
}

describe.skipIf(!HAVE_TFTP)('issue 13 item 8: TFTP and phones bound to their own account (tftp-hpa)', () => {
  const out = tempDir('polyprov-tftp-bound-');
  let off: { srv: TestServer; port: number };
  let on: { srv: TestServer; port: number };
  beforeAll(async () => {
    off = await serverWith({ tftpBoundPhones: false });
    on = await serverWith({ tftpBoundPhones: true });
    await writeFile(join(out, 'override.cfg'), '<PHONE_CONFIG><OVERRIDES reg.1.address="attacker"/></PHONE_CONFIG>\n');
  });
  afterAll(async () => {
    await off?.srv.close();
    await on?.srv.close();
  });
  const get = (port: number, name: string, local: string) => run('tftp', ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', name, local], out, 20_000);
  const put = (port: number, local: string, name: string) => run('tftp', ['127.0.0.1', String(port), '-m', 'binary', '-c', 'put', local, name], out, 20_000);

  test('default: the bound phone\'s SIP password is refused (ERROR 2) from an allow-listed address; an unbound phone\'s is served', async () => {
    const bound = await get(off.port, `${MAC1}-line.cfg`, 'bound.cfg');
    expect(bound.stderr + bound.stdout).toMatch(/Error code 2/);
    const unbound = await get(off.port, `${MAC2}-line.cfg`, 'unbound.cfg');
    expect(unbound.stderr).toBe('');
    expect(await readFile(join(out, 'unbound.cfg'), 'utf8')).toContain('line-two-secret');
  });

  test('default: an anonymous upload of the bound phone\'s override is refused and nothing is stored', async () => {
    const r = await put(off.port, 'override.cfg', `overrides/${MAC1}-phone.cfg`);
    expect(r.stderr + r.stdout).toMatch(/Error code 2/);
    expect(await off.srv.store.uploads.current({ mac: MAC1 as Mac, kind: 'override-phone', path: `overrides/${MAC1}-phone.cfg` })).toBeUndefined();
  });

  test('tftpBoundPhones on: the same read is served from the allow-listed address', async () => {
    const r = await get(on.port, `${MAC1}-line.cfg`, 'bound-on.cfg');
    expect(r.stderr).toBe('');
    expect(await readFile(join(out, 'bound-on.cfg'), 'utf8')).toContain('line-one-secret');
  });

  test('polyprov serve states at start what TFTP bypasses', async () => {
    const root = standardTree();
    const s = await startServe(['--root', root, '--data', tempDir(), '--policy', 'accounts'], ['tftp']);
    try {
      const lines = s.output().split('\n').filter((l) => l.trimStart().startsWith('tftp:'));
      expect(lines.join('\n')).toMatch(/TFTP carries no credentials: it bypasses the accounts policy/);
      expect(lines.join('\n')).toMatch(/only from tftpSecretAllow \(127\.0\.0\.0\/8, ::1\/128\)/);
      expect(lines.join('\n')).toMatch(/phones bound to their own account: never over TFTP \(tftpBoundPhones off\)/);
    } finally {
      await s.stop();
    }
  }, 30_000);
});
