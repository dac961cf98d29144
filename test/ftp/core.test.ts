// FTP against the real core (src/core/boot-service.ts) through startServer, as `polyprov serve
// --ftp` runs it: accounts shared with HTTP, uploads into the master file's directories, refusals.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import type { BootService } from '../../src/core/request.ts';
import { makeAccount } from '../../src/core/digest.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { MAC1, MAC2, standardTree } from '../support/tree.ts';
import { join } from 'node:path';
import { makeCert, RawClient, run } from './helpers.ts';
import { tempDir } from '../support/tree.ts';
import { requirePeer } from '../support/peers.ts';

const HAVE_CURL = requirePeer('curl', 'curl');
let srv: TestServer;
let port: number;
const url = (p: string, cred: string) => `ftp://${cred}@127.0.0.1:${port}/${p}`;
const curl = (args: string[], input?: string) => run('curl', ['-sS', '--max-time', '20', ...args], { input });

beforeAll(async () => {
  srv = await startTestServer(standardTree(), { policy: 'accounts', realm: 'polyprov', staging: true, ftp: '127.0.0.1:0' });
  port = srv.listening.find((l) => l.transport === 'ftp')!.port;
  await srv.store.accounts.put(makeAccount('phone', 'p1', 'p1-pass', 'polyprov', MAC1 as Mac));
});
afterAll(async () => srv?.close());

describe.skipIf(!HAVE_CURL)('FTP over the core (issue 5, FTP and FTPS)', () => {
  test('Admin Guide, Deploying Phones From the Boot Server: the staging account PlcmSpIp reads shared files', async () => {
    const r = await curl([url('site.cfg', 'PlcmSpIp:PlcmSpIp')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('tcpIpApp.sntp.address');
  });

  test('issue 5, accounts shared with HTTP: a per-phone account reads its own files, not another phone\'s', async () => {
    const own = await curl([url(`${MAC1}-line.cfg`, 'p1:p1-pass')]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout.toString()).toContain('reg.1.address="1001"');
    const other = await curl([url(`${MAC2}-line.cfg`, 'p1:p1-pass')]);
    expect(other.code).toBe(78); // 550
    expect(other.stdout.length).toBe(0);
  });

  test('wrong passwords: 530 at PASS, checked by the core; one warn line per refusal, no secret logged', async () => {
    const warnsBefore = srv.logs.filter((l) => l.includes('refused PP_AUTH_FAILED')).length;
    const r = await curl([url('site.cfg', 'p1:wrong')]);
    expect(r.code).toBe(67);
    expect(srv.logs.filter((l) => l.includes('refused PP_AUTH_FAILED')).length).toBe(warnsBefore + 1);
    expect(srv.logs.join('\n')).not.toContain('p1-pass');
    expect(srv.logs.join('\n')).not.toContain('"wrong"');
  });

  test('white paper, Master Configuration File LOG_FILE_DIRECTORY: the phone uploads and appends its log there', async () => {
    const name = `logs/${MAC1}-app.log`;
    const up = await curl(['-T', '-', url(name, 'p1:p1-pass')], 'boot 1\n');
    expect(up.code, up.stderr).toBe(0);
    const app = await curl(['--append', '-T', '-', url(name, 'p1:p1-pass')], 'boot 2\n');
    expect(app.code, app.stderr).toBe(0);
    const back = await curl([url(name, 'p1:p1-pass')]);
    expect(back.stdout.toString()).toBe('boot 1\nboot 2\n');
  });

  test('refused writes: a configuration file, and an override outside OVERRIDES_DIRECTORY, are 550', async () => {
    const cfg = await curl(['-T', '-', url('site.cfg', 'p1:p1-pass')], '<x/>');
    expect(cfg.code).toBe(25);
    expect(cfg.stderr).toContain('550');
    const misplaced = await curl(['-T', '-', url(`${MAC1}-phone.cfg`, 'p1:p1-pass')], '<PHONE_CONFIG/>');
    expect(misplaced.code).toBe(25);
  });

  test('RFC 3659 SIZE/MDTM and RFC 959 CWD/PWD through the core; SIZE of a directory is 550', async () => {
    const c = await RawClient.connect(port);
    await c.reply();
    await c.login('p1', 'p1-pass');
    expect(await c.cmd('SIZE sip.ld')).toMatchObject({ code: 213, text: `213 ${256 * 1024}` });
    expect((await c.cmd('MDTM sip.ld')).text).toMatch(/^213 \d{14}$/);
    expect((await c.cmd('CWD logs')).code).toBe(250);
    expect((await c.cmd('PWD')).text).toContain('"/logs"');
    expect((await c.cmd('CWD nowhere')).code).toBe(550);
    expect((await c.cmd('SIZE /overrides')).code).toBe(550);
    // LIST: answered by the core (op 'list').
    await c.cmd('EPSV');
    const list = await c.cmd('LIST');
    expect([150, 125]).toContain(list.code);
    c.close();
  });
});

describe.skipIf(!HAVE_CURL)('FTPS over the core (issue 5, explicit FTPS; implicit on its own port)', () => {
  let tlsSrv: TestServer;
  let explicitPort: number;
  let implicitPort: number;

  beforeAll(async () => {
    const certs = await makeCert(tempDir('polyprov-cert-'));
    tlsSrv = await startTestServer(standardTree(), {
      policy: 'accounts',
      realm: 'polyprov',
      staging: true,
      ftp: '127.0.0.1:0',
      ftps: '127.0.0.1:0',
      cert: join(certs.dir, 'cert.pem'),
      key: join(certs.dir, 'key.pem'),
    });
    explicitPort = tlsSrv.listening.find((l) => l.transport === 'ftp')!.port;
    implicitPort = tlsSrv.listening.find((l) => l.transport === 'ftps')!.port;
    await tlsSrv.store.accounts.put(makeAccount('phone', 'p1', 'p1-pass', 'polyprov', MAC1 as Mac));
  });
  afterAll(async () => tlsSrv?.close());

  test('RFC 4217 AUTH TLS + PROT P: a per-phone file with a SIP password, download and log upload', async () => {
    const get = await curl(['--ssl-reqd', '-k', `ftp://p1:p1-pass@127.0.0.1:${explicitPort}/${MAC1}-line.cfg`]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.toString()).toContain('reg.1.auth.userId="1001"');
    const up = await curl(['--ssl-reqd', '-k', '-T', '-', `ftp://p1:p1-pass@127.0.0.1:${explicitPort}/logs/${MAC1}-boot.log`], 'booted\n');
    expect(up.code, up.stderr).toBe(0);
  });

  test('implicit FTPS on its own port: TLS from the first byte', async () => {
    const r = await curl(['-k', `ftps://PlcmSpIp:PlcmSpIp@127.0.0.1:${implicitPort}/site.cfg`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('tcpIpApp.sntp.address');
  });
});
