// Issue 13 item 17: protocols per stage. Administrator's Guide, Supported Provisioning Protocols
// (table): Specified Protocol HTTPS → "Protocol used by bootROM" HTTP, "Protocol used by SIP
// Application" HTTPS; FTP, TFTP and HTTP the same in both stages. The virtual phone boots against
// `polyprov serve` with both listeners, and against one that listens on HTTPS alone, which `serve`
// warns about at start.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootPhone, COULD_NOT_CONTACT } from '../../src/phone/boot.ts';
import { clientFactory } from '../../src/phone/clients.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { parseServerAddress, type Protocol } from '../../src/phone/server-address.ts';
import { bootromHttpPort, stageProtocol } from '../../src/phone/stage-protocol.ts';
import { MemoryState } from '../../src/phone/state.ts';
import { listenerWarnings } from '../../src/server.ts';
import { writeCertificate } from '../support/certs.ts';
import { runCli, startServe, type ServeChild } from './serve-child.ts';

const MAC = '0004f2000001' as Mac;
const TREE: Record<string, string | Buffer> = {
  '000000000000.cfg':
    '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
    '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" MISC_FILES="" LOG_FILE_DIRECTORY="" OVERRIDES_DIRECTORY="" CONTACTS_DIRECTORY="" LICENSE_DIRECTORY=""/>\n',
  'site.cfg': '<polycomConfig>\n  <tcpIpApp tcpIpApp.sntp.address="site.ntp.example.com"/>\n</polycomConfig>\n',
  'sip.ld': makeImage('4.0.15.1009', 4096),
};

let dir: string;
let both: ServeChild;
let httpsOnly: ServeChild;

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phone-stage-protocol-'));
  const root = join(dir, 'root');
  for (const [name, body] of Object.entries(TREE)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), body);
  }
  writeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] });
  const tls = ['--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem')];
  both = await startServe(['--root', root, '--policy', 'open', '--data', join(dir, 'data-both'), '--log-level', 'error', ...tls], ['http', 'https']);
  httpsOnly = await startServe(['--root', root, '--policy', 'open', '--data', join(dir, 'data-https'), '--log-level', 'error', ...tls], ['https']);
}, 120_000); // serve children start in seconds alone, over 20 s under the shared machine's load

afterAll(async () => {
  await both?.stop();
  await httpsOnly?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function boot(url: string, bootromHttp: number) {
  return bootPhone({
    server: parseServerAddress(url),
    profile: { mac: MAC, model: 'SPIP650', bootromVersion: '4.0.0.0155', appVersion: '3.1.3.0439' },
    state: new MemoryState(),
    settings: { tries: 1, retryWaitSec: 0, bootromHttpPort: bootromHttp },
    env: { makeClient: clientFactory({ timeoutMs: 3000, rejectUnauthorized: false }) },
  });
}

describe('issue 13 item 17: the protocol of each stage', () => {
  test("Administrator's Guide, Supported Provisioning Protocols: the table, row by row", () => {
    const rows: Array<[Protocol, Protocol, Protocol]> = [
      ['ftp', 'ftp', 'ftp'],
      ['tftp', 'tftp', 'tftp'],
      ['http', 'http', 'http'],
      ['https', 'http', 'https'],
      ['ftps', 'ftps', 'ftps'], // Server Type 4, not in the table: the same in both stages
    ];
    for (const [specified, bootrom, application] of rows) {
      expect([stageProtocol(specified, 'bootrom'), stageProtocol(specified, 'application')], specified).toEqual([bootrom, application]);
    }
    expect(bootromHttpPort(parseServerAddress('https://prov.example.com/'))).toBe(80);
    expect(bootromHttpPort(parseServerAddress('https://prov.example.com:8443/'))).toBe(8443);
    expect(bootromHttpPort(parseServerAddress('https://prov.example.com/'), 8080)).toBe(8080);
  });

  test("Administrator's Guide, Supported Provisioning Protocols: Server Type HTTPS, the bootROM stage speaks HTTP and the application HTTPS", async () => {
    const rec = await boot(`https://127.0.0.1:${both.ports.https}/`, both.ports.http!);
    expect(rec.stages.map((s) => [s.stage, s.protocol, s.server])).toEqual([
      ['bootrom', 'http', `http://127.0.0.1:${both.ports.http}/`],
      ['application', 'https', `https://127.0.0.1:${both.ports.https}/`],
    ]);
    const byStage = (stage: string) => [...new Set(rec.requests.filter((r) => r.stage === stage).map((r) => r.url.slice(0, r.url.indexOf(':'))))];
    expect(byStage('bootrom')).toEqual(['http']);
    expect(byStage('application')).toEqual(['https']);
    // "For downloading the bootROM and application images to the phone, the secure HTTPS protocol is not available."
    expect(rec.image.action).toBe('downloaded');
    expect(rec.requests.filter((r) => r.url.endsWith('/sip.ld')).every((r) => r.url.startsWith('http://'))).toBe(true);
    expect(rec.configFrom).toBe('server');
    expect(rec.effective?.params['tcpIpApp.sntp.address']?.value).toBe('site.ntp.example.com');
  });

  test('a server on HTTPS alone: the bootROM finds no boot server, the application still provisions over HTTPS', async () => {
    const rec = await boot(`https://127.0.0.1:${httpsOnly.ports.https}/`, await closedPort());
    const bootrom = rec.requests.filter((r) => r.stage === 'bootrom');
    expect(bootrom.length).toBeGreaterThan(0);
    expect(bootrom.every((r) => r.status === 'error' && r.url.startsWith('http://'))).toBe(true);
    expect(rec.messages.some((m) => m.startsWith(COULD_NOT_CONTACT))).toBe(true);
    expect(rec.image.action).toBe('skipped');
    expect(rec.contacted).toBe(true);
    expect(rec.configFrom).toBe('server');
  });

  test("serve warns at start when it listens on HTTPS alone (such phones' bootROMs find no server), and not with HTTP beside it", async () => {
    const warned = (out: string) => out.split('\n').filter((l) => l.startsWith('warning: listening on HTTPS only'));
    expect(warned(httpsOnly.output())).toHaveLength(1);
    expect(warned(both.output())).toEqual([]);
    expect(listenerWarnings([{ transport: 'https', host: '0.0.0.0', port: 443 }])[0]).toContain('--http 0.0.0.0:80');
    expect(listenerWarnings([{ transport: 'tftp', host: '0.0.0.0', port: 69 }])).toEqual([]);
  });

  test('CLI: phone boot --json says which stage used which protocol; --bootrom-http-port picks the bootROM port', async () => {
    const r = await runCli(['phone', 'boot', '--server', `https://127.0.0.1:${both.ports.https}/`, '--bootrom-http-port', String(both.ports.http), '--insecure', '--mac', MAC, '--tries', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { stages: Array<{ stage: string; protocol: string }> };
    expect(rec.stages.map((s) => `${s.stage} ${s.protocol}`)).toEqual(['bootrom http', 'application https']);
  });
});
