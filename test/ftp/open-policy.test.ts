// Issue 13 item 5: the factory case over FTP in `open` policy. A factory phone logs in as
// PlcmSpIp/PlcmSpIp over FTP, the factory default (Administrator's Guide, Deploying Phones From
// the Boot Server); the classic LAN boot server lets anyone read, so in `open` any FTP login reads,
// as over HTTP: PlcmSpIp with staging off, anonymous, a stale password. A phone bound to its own
// account still keeps its files to itself. Real clients: curl and lftp.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree } from '../support/tree.ts';
import { requirePeer } from '../support/peers.ts';
import { run } from './helpers.ts';

const HAVE_CURL = requirePeer('curl', 'curl');
const HAVE_LFTP = requirePeer('lftp', 'lftp');
let srv: TestServer;
let port: number;
const url = (p: string, cred?: string) => `ftp://${cred ? `${cred}@` : ''}127.0.0.1:${port}/${p}`;
const curl = (args: string[]) => run('curl', ['-sS', '--max-time', '20', ...args]);

beforeAll(async () => {
  srv = await startTestServer(standardTree(), { policy: 'open', staging: false, ftp: '127.0.0.1:0' });
  port = srv.listening.find((l) => l.transport === 'ftp')!.port;
  // MAC2 has its own (confirmed) account: its files are for it alone, in every policy.
  await srv.store.accounts.put({ ...makeAccount('phone', 'p2', 'p2-pass', 'polyprov', MAC2 as Mac), pending: false });
});
afterAll(async () => srv?.close());

describe.skipIf(!HAVE_CURL)('open policy over FTP with curl (issue 13 item 5)', () => {
  for (const [who, cred] of [['the factory login PlcmSpIp/PlcmSpIp (staging off)', 'PlcmSpIp:PlcmSpIp'], ['an anonymous login', undefined], ['an unknown user', 'nobody:guess']] as const) {
    test(`Admin Guide, Deploying Phones From the Boot Server: ${who} reads the master file, a configuration file and a phone's own file`, async () => {
      const master = await curl([url('000000000000.cfg', cred)]);
      expect(master.code, master.stderr).toBe(0);
      expect(master.stdout.toString()).toContain('APP_FILE_PATH="sip.ld"');
      const site = await curl([url('site.cfg', cred)]);
      expect(site.code, site.stderr).toBe(0);
      expect(site.stdout.toString()).toContain('tcpIpApp.sntp.address');
      const line = await curl([url(`${MAC1}-line.cfg`, cred)]);
      expect(line.code, line.stderr).toBe(0);
      expect(line.stdout.toString()).toContain('reg.1.address="1001"');
    });
  }

  test('a phone bound to its own account: its files are refused to any other login', async () => {
    const r = await curl([url(`${MAC2}-line.cfg`, 'PlcmSpIp:PlcmSpIp')]);
    expect(r.code).not.toBe(0);
    expect(r.stdout.length).toBe(0);
    const own = await curl([url(`${MAC2}-line.cfg`, 'p2:p2-pass')]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.toString()).toContain('reg.1.address="1002"');
  });
});

describe.skipIf(!HAVE_LFTP)('open policy over FTP with lftp (issue 13 item 5)', () => {
  test('the factory login lists the root and gets the master file', async () => {
    const r = await run('lftp', ['-c', `set net:max-retries 1; set net:timeout 10; set ftp:ssl-allow no; open -u PlcmSpIp,PlcmSpIp ftp://127.0.0.1:${port}; cls -1; cat 000000000000.cfg`], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('site.cfg');
    expect(r.stdout.toString()).toContain('APP_FILE_PATH="sip.ld"');
  });
});
