// The virtual phone's discovery stages (white paper, "Discovering the Provisioning Server",
// stages 1–4) end to end on loopback: against `polyprov dhcp inform` in-process, through
// ./bin/polyprov as a child process, and against Debian's dnsmasq running the snippet
// `polyprov dhcp snippet --format dnsmasq` prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { bootOptions } from '../../src/dhcp/boot-option.ts';
import { DhcpClient, newXid } from '../../src/dhcp/client.ts';
import { startInformResponder, type InformResponder } from '../../src/dhcp/inform.ts';
import { BOOTREQUEST, MessageType, Opt, chaddrFromMac, encodeDhcp } from '../../src/dhcp/packet.ts';
import { renderSnippet } from '../../src/dhcp/snippet.ts';
import { discoverBootServer, type DiscoveryOptions } from '../../src/phone/discovery.ts';
import { openStore } from '../../src/store/open.ts';
import { BIN } from '../cli/run-cli.ts';
import { captureLog, freeUdpPort } from './helpers.ts';
import { requirePeer } from '../support/peers.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
const tmp = mkdtempSync(join(tmpdir(), 'polyprov-discovery-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function responder(clientPort: number, bootServer: string, codes: number[], type?: 'ip' | 'string'): Promise<InformResponder> {
  const r = await startInformResponder({
    host: '127.0.0.1',
    port: 0,
    bootServer,
    options: bootOptions(codes, type),
    onlyPolycom: true,
    serverId: '127.0.0.1',
    replyPort: clientPort,
    relayPort: 67,
    log: captureLog('warn').log,
  });
  cleanups.push(() => r.close());
  return r;
}

const ep = (r: InformResponder) => ({ host: '127.0.0.1', port: r.address().port });

function phone(clientPort: number, over: Partial<DiscoveryOptions>): DiscoveryOptions {
  return { clientPort, bindHost: '127.0.0.1', mac: '0004f2000650', model: 'SPIP650', mode: 'option66', staticServer: null, timeoutMs: 500, informRetries: 1, ...over };
}

describe('against polyprov dhcp inform (in-process)', () => {
  test('white paper Stage 2: no boot server option in a DHCP reply and a <null> static server → DHCPINFORM answered', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/prov/', [66]);
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r) }));
    expect(res).toMatchObject({ server: 'http://192.0.2.10/prov/', stage: 'inform', option: 66 });
    expect(res.trace[0]).toMatch(/stage 1: no DHCPOFFER/); // the responder leases nothing
  });

  test('white paper Stage 2: a stored boot server of 0.0.0.0 counts as none, so the INFORM is sent', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/', [66]);
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r), staticServer: '0.0.0.0' }));
    expect(res.stage).toBe('inform');
  });

  test('guide, DHCP Menu: a stored boot server other than 0.0.0.0 is used and no INFORM is sent (Stage 3)', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/', [66]);
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r), staticServer: 'https://static.example.com/' }));
    expect(res).toMatchObject({ server: 'https://static.example.com/', stage: 'static' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.stats).toMatchObject({ received: 1, answered: 0 }); // the DISCOVER only
  });

  test('guide, DHCP Menu: 2=Static uses the Server Menu address and sends nothing', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/', [66]);
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r), mode: 'static', staticServer: '192.0.2.99' }));
    expect(res).toMatchObject({ server: '192.0.2.99', stage: 'static' });
    expect(r.stats.received).toBe(0);
  });

  test('white paper Stage 4: nobody answers → the cached configuration ("Could not contact boot server" without one)', async () => {
    const cp = await freeUdpPort();
    const silent = { host: '127.0.0.1', port: await freeUdpPort() };
    const cached = await discoverBootServer(phone(cp, { dhcp: silent, cached: 'http://cached.example.com/' }));
    expect(cached).toMatchObject({ server: 'http://cached.example.com/', stage: 'cache' });
    const none = await discoverBootServer(phone(cp, { dhcp: silent }));
    expect(none).toMatchObject({ server: null, stage: 'cache' });
    expect(none.detail).toMatch(/Could not contact boot server using existing configuration/);
  });

  test('guide, DHCP Menu: 1=Custom with Boot Server Option Type IP Address', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/prov', [150], 'ip');
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r), mode: 'custom', customOption: 150, optionType: 'ip' }));
    expect(res).toMatchObject({ server: '192.0.2.10', stage: 'inform', option: 150 });
  });

  test('guide, DHCP Menu: 1=Custom ignores an answer that carries option 66 only', async () => {
    const cp = await freeUdpPort();
    const r = await responder(cp, 'http://192.0.2.10/', [66]);
    const res = await discoverBootServer(phone(cp, { dhcp: ep(r), mode: 'custom', customOption: 150, optionType: 'ip' }));
    expect(res).toMatchObject({ server: null, stage: 'cache' });
    expect(res.detail).toMatch(/no INFORM answer carried a valid boot server option/);
  });

  test('guide, DHCP Menu note: several INFORM answers — Custom+Option66 takes the custom one, Option 66 the 66 one', async () => {
    const cp = await freeUdpPort();
    const a = await responder(cp, 'http://sixty-six.example.com/', [66]);
    const b = await responder(cp, '192.0.2.10', [150], 'ip');
    const targets = [ep(a), ep(b)];
    const custom = await discoverBootServer(phone(cp, { dhcp: ep(a), informTargets: targets, mode: 'custom+option66', customOption: 150, optionType: 'ip' }));
    expect(custom).toMatchObject({ server: '192.0.2.10', stage: 'inform', option: 150, from: `127.0.0.1:${b.address().port}` });
    const o66 = await discoverBootServer(phone(cp, { dhcp: ep(a), informTargets: targets, mode: 'option66' }));
    expect(o66).toMatchObject({ server: 'http://sixty-six.example.com/', option: 66, from: `127.0.0.1:${a.address().port}` });
  });
});

/** Starts a child, resolves with the first stdout match; the child is stopped in cleanup. */
function startChild(cmd: string, args: string[], ready: RegExp, stream: 'stdout' | 'stderr', timeoutMs = 15_000): Promise<{ child: ChildProcess; match: RegExpMatchArray; out: () => string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.POLYPROV_DATA;
    delete env.POLYPROV_CONFIG;
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let all = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} not ready within ${timeoutMs} ms:\n${all}`));
    }, timeoutMs);
    const onData = (which: string) => (d: Buffer) => {
      all += d.toString();
      if (which !== stream) return;
      text += d.toString();
      const m = ready.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, out: () => all });
      }
    };
    child.stdout!.on('data', onData('stdout'));
    child.stderr!.on('data', onData('stderr'));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code} before it was ready:\n${all}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('against ./bin/polyprov dhcp inform (child process)', () => {
  test('white paper Stage 2 through the CLI: option 160, --only-polycom, sighting recorded in --data', async () => {
    const cp = await freeUdpPort();
    const data = join(tmp, 'cli-data');
    const { child, match } = await startChild(
      process.execPath,
      [BIN, 'dhcp', 'inform', '--listen', '127.0.0.1:0', '--boot-server', 'https://prov.example.com/polycom', '--option', '160', '--reply-port', String(cp), '--only-polycom', '--data', data],
      /listening on 127\.0\.0\.1:(\d+)/,
      'stdout',
    );
    cleanups.push(() => stop(child));
    const res = await discoverBootServer(phone(cp, { dhcp: { host: '127.0.0.1', port: Number(match[1]) }, mac: '0004f2000651', stage: 'bootrom' }));
    expect(res).toMatchObject({ server: 'https://prov.example.com/polycom', stage: 'inform', option: 160 });
    expect(await stop(child)).toBe(0);
    const store = await openStore({ data, storeUrl: 'sqlite' });
    try {
      const seen = await store.phones.get('0004f2000651' as Mac);
      expect(seen).toMatchObject({ model: 'SPIP650', partNumber: '2345-12600-001', bootromVersion: 'BR/4.0.0.0155/23-May-07 13:35', lastSource: 'dhcp' });
    } finally {
      await store.close();
    }
  });
});

// ---- dnsmasq ----

interface Dnsmasq {
  serverPort: number;
  clientPort: number;
}

async function startDnsmasq(snippet: string): Promise<Dnsmasq> {
  const serverPort = await freeUdpPort();
  const clientPort = await freeUdpPort();
  const conf = join(tmp, `dnsmasq-${serverPort}.conf`);
  writeFileSync(
    conf,
    [
      'port=0', // no DNS
      'interface=lo',
      'bind-interfaces',
      'leasefile-ro',
      'dhcp-range=127.0.0.50,127.0.0.60,255.0.0.0,1h',
      `dhcp-alternate-port=${serverPort},${clientPort}`,
      snippet,
    ].join('\n'),
  );
  const { child } = await startChild('dnsmasq', ['--no-daemon', '--log-facility=-', '--log-dhcp', '--pid-file=', '-C', conf], /DHCP, IP range/, 'stderr', 10_000);
  cleanups.push(() => stop(child));
  return { serverPort, clientPort };
}

let dnsmasqProblem: string | undefined | null = null;
async function dnsmasqOrSkip(ctx: { skip: (note?: string) => void }): Promise<void> {
  if (dnsmasqProblem === null) {
    try {
      await startDnsmasq('');
      dnsmasqProblem = undefined;
    } catch (e) {
      dnsmasqProblem = (e as Error).message.split('\n').slice(0, 3).join(' ');
    }
  }
  if (dnsmasqProblem) ctx.skip(`dnsmasq cannot serve DHCP on loopback here: ${dnsmasqProblem}`);
}

describe.skipIf(!requirePeer('dnsmasq', 'dnsmasq'))('against dnsmasq running the generated snippet', () => {
  test('white paper Stage 1: dnsmasq hands option 66 to the phone (class on option 60, non-Polycom MAC)', async (ctx) => {
    await dnsmasqOrSkip(ctx);
    const d = await startDnsmasq(renderSnippet({ bootServer: 'http://192.0.2.10/prov/', format: 'dnsmasq', options: [66] }));
    const res = await discoverBootServer(phone(d.clientPort, { dhcp: { host: '127.0.0.1', port: d.serverPort }, mac: '001122334455', bindHost: '0.0.0.0', timeoutMs: 3000 }));
    expect(res).toMatchObject({ server: 'http://192.0.2.10/prov/', stage: 'dhcp', option: 66 });
    expect(res.leasedAddress).toMatch(/^127\.0\.0\.(5\d|60)$/);
  });

  test('guide, DHCP Menu: 3=Custom+Option 66 against dnsmasq prefers the custom option (IP Address)', async (ctx) => {
    await dnsmasqOrSkip(ctx);
    const d = await startDnsmasq(renderSnippet({ bootServer: '192.0.2.10', format: 'dnsmasq', options: [66, 150], optionType: 'ip' }));
    const res = await discoverBootServer(phone(d.clientPort, { dhcp: { host: '127.0.0.1', port: d.serverPort }, bindHost: '0.0.0.0', mode: 'custom+option66', customOption: 150, optionType: 'ip', timeoutMs: 3000 }));
    expect(res).toMatchObject({ server: '192.0.2.10', stage: 'dhcp', option: 150 });
  });

  test('the snippet gives nothing to a client that is not a Polycom (no option 60, other OUI)', async (ctx) => {
    await dnsmasqOrSkip(ctx);
    const d = await startDnsmasq(renderSnippet({ bootServer: 'http://192.0.2.10/', format: 'dnsmasq', options: [66], vlan: [10] }));
    const client = await DhcpClient.open({ port: d.clientPort });
    cleanups.push(() => client.close());
    const discover = (mac: string, withVendorClass: boolean) => {
      const xid = newXid();
      const opts: Array<[number, Buffer]> = [[Opt.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])], [Opt.PARAM_REQUEST_LIST, Buffer.from([1, 66, 128])]];
      if (withVendorClass) opts.push([Opt.VENDOR_CLASS, Buffer.from('MSFT 5.0')]);
      return { xid, buf: encodeDhcp({ op: BOOTREQUEST, xid, flags: 0x8000, chaddr: chaddrFromMac(mac), options: opts }) };
    };
    const offerFor = async (mac: string) => {
      const q = discover(mac, true);
      const [offer] = await client.exchange(q.buf, [{ host: '127.0.0.1', port: d.serverPort }], { windowMs: 3000, retries: 0, first: true, match: (r) => r.packet.xid === q.xid });
      return offer;
    };
    const other = await offerFor('001122334455');
    expect(other?.type).toBe(MessageType.OFFER);
    expect(other?.packet.options.has(66)).toBe(false);
    expect(other?.packet.options.has(128)).toBe(false);
    const polycomOui = await offerFor('64167f000001'); // matched by dhcp-mac alone
    expect(polycomOui?.packet.options.get(66)?.toString('latin1')).toMatch(/^http:\/\/192\.0\.2\.10\//);
    expect(polycomOui?.packet.options.get(128)?.toString('latin1')).toMatch(/^VLAN-A=10;/);
  });

  test('guide, DHCP or Manual TCP/IP Setup: dnsmasq leases but has no boot option; polyprov answers the INFORM', async (ctx) => {
    await dnsmasqOrSkip(ctx);
    const d = await startDnsmasq('');
    const r = await responder(d.clientPort, 'https://prov.example.com/', [66]);
    const res = await discoverBootServer(
      phone(d.clientPort, { dhcp: { host: '127.0.0.1', port: d.serverPort }, informTargets: [{ host: '127.0.0.1', port: d.serverPort }, ep(r)], bindHost: '0.0.0.0', timeoutMs: 1500 }),
    );
    expect(res).toMatchObject({ server: 'https://prov.example.com/', stage: 'inform', option: 66, from: `127.0.0.1:${r.address().port}` });
    expect(res.leasedAddress).toMatch(/^127\.0\.0\./);
    expect(res.trace.join('\n')).toMatch(/stage 2: .* 2 answer\(s\)/); // dnsmasq answered the INFORM too, without option 66
  });
});
