// Issue 13 item 6 on the wire: a file that holds a secret and that only one phone's <MAC>.cfg
// lists (bob.cfg with line 2's SIP password) is served over HTTP and FTP only to that phone's
// account, like its MAC-named files (Administrator's Guide, Boot Server Security Policy). The
// whole server on 127.0.0.1 (HTTP with Basic credentials, FTP with curl).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { run } from '../ftp/helpers.ts';
import { requirePeer } from '../support/peers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree } from '../support/tree.ts';

let srv: TestServer;
let ftpPort: number;

beforeAll(async () => {
  const root = standardTree({
    [`${MAC1}.cfg`]: '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="bob.cfg, site.cfg" OVERRIDES_DIRECTORY="overrides"/>\n',
    'bob.cfg': '<polycomConfig reg.2.address="2002" reg.2.auth.userId="bob" reg.2.auth.password="bobs-secret"/>\n',
  });
  srv = await startTestServer(root, { policy: 'accounts', realm: 'polyprov', staging: true, ftp: '127.0.0.1:0' });
  ftpPort = srv.listening.find((l) => l.transport === 'ftp')!.port;
  await srv.store.accounts.put(makeAccount('phone', 'p1', 'p1-pw', 'polyprov', MAC1 as Mac));
  await srv.store.accounts.put(makeAccount('phone', 'p2', 'p2-pw', 'polyprov', MAC2 as Mac));
  await srv.store.accounts.put(makeAccount('site', 'site', 'site-pw', 'polyprov'));
});
afterAll(async () => srv?.close());

const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

describe('issue 13 item 6: bob.cfg belongs to the phone whose master lists it', () => {
  test('HTTP: the phone\'s own account gets it; another phone\'s account, the site account and PlcmSpIp get 403', async () => {
    const own = await fetch(`${srv.url}/bob.cfg`, { headers: basic('p1', 'p1-pw') });
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('reg.2.auth.password');
    for (const [user, pw] of [['p2', 'p2-pw'], ['site', 'site-pw'], ['PlcmSpIp', 'PlcmSpIp']]) {
      const r = await fetch(`${srv.url}/bob.cfg`, { headers: basic(user!, pw!) });
      expect(r.status, user).toBe(403);
      expect(await r.text()).not.toContain('bobs-secret');
    }
    // A file without secrets stays readable by every account.
    expect((await fetch(`${srv.url}/site.cfg`, { headers: basic('p2', 'p2-pw') })).status).toBe(200);
  });

  test.skipIf(!requirePeer('curl', 'curl'))('FTP: the same with curl — the phone\'s account downloads it, another phone\'s gets 550', async () => {
    const url = (cred: string) => `ftp://${cred}@127.0.0.1:${ftpPort}/bob.cfg`;
    const own = await run('curl', ['-sS', '--max-time', '20', url('p1:p1-pw')]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.toString()).toContain('bobs-secret');
    const other = await run('curl', ['-sS', '--max-time', '20', url('p2:p2-pw')]);
    expect(other.code).toBe(78); // RETR answered 550
    expect(other.stdout.length).toBe(0);
  });
});
