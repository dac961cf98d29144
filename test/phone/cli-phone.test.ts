// `polyprov phone boot|set|contact|run` as a user runs them.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { bootOptions } from '../../src/dhcp/boot-option.ts';
import { startInformResponder } from '../../src/dhcp/inform.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import { captureLog, freeUdpPort } from '../dhcp/helpers.ts';
import { BIN, runCli } from './serve-child.ts';
import { startRecordingServer, type RecordingServer } from './recording-server.ts';

const MAC = '0004f2000001';
// White paper, Master Configuration File: directories for logs, overrides and contacts.
const TREE = {
  '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts"/>',
  'site.cfg': '<polycomConfig reg.1.address="1001" reg.1.label="Site" reg.1.auth.password="line-secret"/>',
  'sip.ld': makeImage('4.0.15.1009', 1000),
};

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A DHCP INFORM responder on loopback that hands out `s` through `options`; closed after the test. */
async function informResponder(s: RecordingServer, options: ReturnType<typeof bootOptions>) {
  const cp = await freeUdpPort();
  const r = await startInformResponder({
    host: '127.0.0.1',
    port: 0,
    bootServer: s.url,
    options,
    onlyPolycom: true,
    serverId: '127.0.0.1',
    replyPort: cp,
    relayPort: 67,
    log: captureLog('warn').log,
  });
  cleanup.push(() => r.close());
  return { r, cp };
}

async function setup(): Promise<{ s: RecordingServer; state: string }> {
  const s = await startRecordingServer(TREE);
  cleanup.push(() => s.close());
  const dir = await mkdtemp(join(tmpdir(), 'phone-cli-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return { s, state: join(dir, 'state') };
}

describe('polyprov phone', () => {
  test('issue 7: phone boot --json prints every request, the image decision and the effective configuration, secrets masked', async () => {
    const { s, state } = await setup();
    const r = await runCli(['phone', 'boot', '--server', s.url, '--mac', '00:04:F2:00:00:01', '--model', 'SPIP650', '--state', state, '--tries', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout) as { requests: Array<{ method: string; url: string; status: string; bytes: number; ms: number }>; image: { action: string }; effective: { params: Record<string, { value: string }> } };
    expect(rec.requests[0]).toMatchObject({ method: 'GET', url: `${s.url}${MAC}.cfg`, status: 'not-found' });
    expect(rec.requests.every((q) => typeof q.ms === 'number' && typeof q.bytes === 'number')).toBe(true);
    expect(rec.image.action).toBe('downloaded');
    expect(rec.effective.params['reg.1.label']!.value).toBe('Site');
    expect(r.stdout).not.toContain('line-secret');
    expect(s.requests.find((q) => q.path === 'site.cfg')!.userAgent).toBe('FileTransport PolycomSoundPointIP-SPIP_650-UA/4.0.15.1009 Type/Application');
  });

  test('white paper, OVERRIDES_DIRECTORY / CONTACTS_DIRECTORY: phone set and phone contact add are uploaded at the next boot', async () => {
    const { s, state } = await setup();
    expect((await runCli(['phone', 'boot', '--server', s.url, '--mac', MAC, '--state', state, '--tries', '1'])).code).toBe(0);
    const set = await runCli(['phone', 'set', '--state', state, 'reg.1.label', 'From keypad']);
    expect(set.code, set.stderr).toBe(0);
    const add = await runCli(['phone', 'contact', 'add', '--state', state, '--ct', '1815', '--fn', 'Ada', '--ln', 'Lovelace']);
    expect(add.code, add.stderr).toBe(0);
    const dup = await runCli(['phone', 'contact', 'add', '--state', state, '--ct', '1815']);
    expect(dup.code).toBe(2);
    const list = await runCli(['phone', 'contact', 'list', '--state', state, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([{ ct: '1815', fn: 'Ada', ln: 'Lovelace' }]);
    // the second boot needs neither --server nor --mac: the phone remembers them
    const again = await runCli(['phone', 'boot', '--state', state, '--tries', '1', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(s.files.get(`overrides/${MAC}-phone.cfg`)?.toString()).toContain('reg.1.label="From keypad"');
    expect(s.files.get(`contacts/${MAC}-directory.xml`)?.toString()).toContain('<ct>1815</ct>');
    const rec = JSON.parse(again.stdout) as { image: { action: string }; effective: { params: Record<string, { value: string }> } };
    expect(rec.image.action).toBe('unchanged');
    expect(rec.effective.params['reg.1.label']!.value).toBe('From keypad');
  }, 60_000); // six CLI processes: 23 s alone on the shared 2-core machine

  test('white paper, Stage 4: an unreachable server boots from the cache and exits 1 with the documented message', async () => {
    const { s, state } = await setup();
    expect((await runCli(['phone', 'boot', '--server', s.url, '--mac', MAC, '--state', state, '--tries', '1'])).code).toBe(0);
    await s.close();
    const r = await runCli(['phone', 'boot', '--state', state, '--tries', '2', '--retry-wait', '0', '--timeout', '2000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Could not contact boot server using existing configuration');
    expect(r.stdout).toContain('configuration from cache');
  });

  test('white paper, Discovering the Provisioning Server, Stage 2: --dhcp finds the boot server by DHCPINFORM, then boots from it; bootROM and application each discover (Stage 4 note)', async () => {
    const { s, state } = await setup();
    const { r, cp } = await informResponder(s, bootOptions([66], undefined));
    const out = await runCli(['phone', 'boot', '--dhcp', `127.0.0.1:${r.address().port}`, '--dhcp-client-port', String(cp), '--dhcp-timeout', '500', '--mac', MAC, '--state', state, '--tries', '1', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const rec = JSON.parse(out.stdout) as { discovery: { stage: string }; configFrom: string; stages: Array<{ stage: string; discovery: { stage: string } }> };
    expect(rec.discovery.stage).toBe('inform');
    expect(rec.configFrom).toBe('server');
    expect(s.requests.some((q) => q.path === 'site.cfg')).toBe(true);
    // White paper, Stage 4 note: "The BootROM and UC software application will each independently
    // perform the provisioning discovery process … the phone will perform this operation twice."
    expect(rec.stages.map((st) => `${st.stage} ${st.discovery.stage}`)).toEqual(['bootrom inform', 'application inform']);
    expect(r.stats.answered).toBe(2);
  });

  test('guide, DHCP Menu: --boot-server-mode custom with --boot-server-option 150 takes the boot server from option 150', async () => {
    const { s, state } = await setup();
    const { r, cp } = await informResponder(s, bootOptions([150], 'string'));
    const args = ['phone', 'boot', '--dhcp', `127.0.0.1:${r.address().port}`, '--dhcp-client-port', String(cp), '--dhcp-timeout', '500', '--mac', MAC, '--state', state, '--tries', '1', '--json', '--boot-server-mode', 'custom'];
    const out = await runCli([...args, '--boot-server-option', '150', '--boot-server-option-type', 'string']);
    expect(out.code, out.stderr).toBe(0);
    const rec = JSON.parse(out.stdout) as { discovery: { stage: string }; configFrom: string };
    expect(rec.discovery.stage).toBe('inform');
    expect(rec.configFrom).toBe('server');
    // Without the flag the phone looks at option 160, finds nothing, and has no static or cached server.
    const without = await runCli([...args.filter((a) => a !== state && a !== '--state'), '--dhcp-timeout', '300']);
    expect(without.code).not.toBe(0);
    expect((await runCli([...args, '--boot-server-option', '300'])).code).toBe(2);
  });

  test('usage errors exit 2', async () => {
    expect((await runCli(['phone', 'boot', '--server', 'http://127.0.0.1:9/', '--mac', 'nope'])).code).toBe(2);
    expect((await runCli(['phone', 'boot', '--server', 'http://127.0.0.1:9/', '--mac', MAC, '--tries', '11'])).code).toBe(2);
    expect((await runCli(['phone', 'boot', '--server', 'gopher://x/', '--mac', MAC])).code).toBe(2);
  });

  test('phone run: answers check-sync on its SIP port and stops cleanly on SIGTERM', async () => {
    const { s, state } = await setup();
    const child = spawn(process.execPath, [BIN, 'phone', 'run', '--server', s.url, '--mac', MAC, '--state', state, '--tries', '1', '--sip', '127.0.0.1:0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const end = Date.now() + 20_000;
    let port: number | undefined;
    while (!port && Date.now() < end) {
      port = Number(/udp 127\.0\.0\.1:(\d+)/.exec(err)?.[1]) || undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(port, err).toBeDefined();
    const sock = dgram.createSocket('udp4');
    const answer = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer')), 5000);
      sock.on('message', (m) => {
        clearTimeout(t);
        resolve(m.toString());
      });
      sock.send(
        Buffer.from(
          `NOTIFY sip:1001@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKcli1\r\nFrom: <sip:akihabara>;tag=1\r\nTo: <sip:127.0.0.1:${port}>\r\nCall-ID: cli-1\r\nCSeq: 1 NOTIFY\r\nEvent: check-sync\r\nContent-Length: 0\r\n\r\n`,
        ),
        port!,
        '127.0.0.1',
      );
    });
    sock.close();
    expect(answer.startsWith('SIP/2.0 200')).toBe(true);
    while (!out.includes('"kind":"check-sync"') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('"kind":"check-sync"');
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
