// `phone run`: check-sync NOTIFY on the phone's SIP port, request validation, reboot decisions.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import { makeImage } from '../../src/phone/image-header.ts';
import type { VirtualPhone } from '../../src/phone/run.ts';
import { parseMessage, getHeader } from '../../src/sip/message.ts';
import type { RecordingServer } from './recording-server.ts';
import { startRunningPhone, until } from './running-phone.ts';
import { runCli } from './serve-child.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAC = '0004f2000001' as Mac;

// White paper, Reconfiguring the Phone Remotely (check-sync capture) and facts §4.1.
function tree(extraSite = ''): Record<string, string | Buffer> {
  return {
    '000000000000.cfg': '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="phone.cfg, site.cfg" CONTACTS_DIRECTORY=""/>',
    'phone.cfg': '<polycomConfig reg.1.address="1001" reg.1.auth.userId="1001" reg.1.auth.password="linepass"/>',
    'site.cfg': `<polycomConfig voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0" ${extraSite}/>`,
    'sip.ld': makeImage('4.0.15.1009', 512),
    [`${MAC}-directory.xml`]: '<directory><item_list><item><ct>1</ct></item></item_list></directory>',
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function setup(files: Record<string, string | Buffer>): Promise<{ s: RecordingServer; phone: VirtualPhone }> {
  return startRunningPhone(MAC, files, closers);
}

let seq = 0;
function notify(port: number, extra: string[] = [], event = 'check-sync'): string {
  seq++;
  return [
    `NOTIFY sip:1001@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKtest${seq}`,
    'From: <sip:akihabara>;tag=1530231855-106746376154',
    `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: b98cd3c4-f37c265b-${seq}`,
    'CSeq: 1 NOTIFY',
    'Contact: <sip:akihabara>',
    `Event: ${event}`,
    'Max-Forwards: 10',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function send(port: number, text: string): Promise<ReturnType<typeof parseMessage>> {
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no SIP answer within 3 s')), 3000);
      sock.on('message', (m) => {
        clearTimeout(t);
        resolve(parseMessage(m));
      });
      sock.send(Buffer.from(text), port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

describe('phone run: SIP NOTIFY check-sync', () => {
  test('white paper, Reconfiguring the Phone Remotely: check-sync answered 200, configuration re-read, no reboot', async () => {
    const { s, phone } = await setup(tree());
    const before = s.requests.length;
    s.files.set('site.cfg', Buffer.from('<polycomConfig reg.1.label="New label"/>'));
    const r = await send(phone.sipPort!, notify(phone.sipPort!));
    expect(r.ok && r.message.kind === 'response' && r.message.status).toBe(200);
    const rec = await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(rec.rebooted).toBeUndefined();
    expect(rec.requests.every((q) => q.stage === 'application')).toBe(true);
    expect(rec.effective?.params['reg.1.label']?.value).toBe('New label');
    const paths = s.requests.slice(before).map((q) => q.path);
    expect(paths).toContain('site.cfg');
    // white paper, Understanding Phone Update Behavior: the directory is not re-read without dir.local.readonly="1"
    expect(paths).not.toContain(`${MAC}-directory.xml`);
  });

  test('white paper table: with dir.local.readonly="1" the directory is re-read on check-sync', async () => {
    const { s, phone } = await setup(tree('dir.local.readonly="1"'));
    const before = s.requests.length;
    await send(phone.sipPort!, notify(phone.sipPort!));
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(s.requests.slice(before).map((q) => q.path)).toContain(`${MAC}-directory.xml`);
  });

  test('facts §4.1: alwaysReboot="1" turns every check-sync into a reboot', async () => {
    const files = tree();
    files['site.cfg'] = '<polycomConfig voIpProt.SIP.specialEvent.checkSync.alwaysReboot="1"/>';
    const { phone } = await setup(files);
    await send(phone.sipPort!, notify(phone.sipPort!));
    const rec = await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(rec.rebooted).toMatch(/alwaysReboot/);
    expect(rec.requests.some((q) => q.stage === 'bootrom')).toBe(true);
  });

  test('facts §4.1: a new application image means a reboot even with alwaysReboot="0"', async () => {
    const { s, phone } = await setup(tree());
    s.files.set('sip.ld', makeImage('4.0.16.0002', 512));
    await send(phone.sipPort!, notify(phone.sipPort!));
    const rec = await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    expect(rec.rebooted).toMatch(/image changed/);
    expect(rec.image).toMatchObject({ action: 'downloaded', serverVersion: '4.0.16.0002' });
    expect(rec.appVersion).toBe('4.0.16.0002');
  });

  test('RFC 6665 §8.2.1: another event package gets 489; a retransmission is answered without a second re-provisioning', async () => {
    const { phone } = await setup(tree());
    const bad = await send(phone.sipPort!, notify(phone.sipPort!, [], 'presence'));
    expect(bad.ok && bad.message.kind === 'response' && bad.message.status).toBe(489);
    const text = notify(phone.sipPort!);
    await send(phone.sipPort!, text);
    await send(phone.sipPort!, text);
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    await new Promise((r) => setTimeout(r, 300));
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(1);
  });

  test('facts §4.1, requestValidation digest: 401 in realm PolycomSPIP, then verified against reg.1.auth.userId/password', async () => {
    const { phone } = await setup(
      tree('voIpProt.SIP.requestValidation.1.request="NOTIFY" voIpProt.SIP.requestValidation.1.method="digest" voIpProt.SIP.requestValidation.1.request.1.event="check-sync"'),
    );
    const port = phone.sipPort!;
    const first = await send(port, notify(port));
    expect(first.ok && first.message.kind === 'response' && first.message.status).toBe(401);
    const challenge = first.ok ? getHeader(first.message, 'WWW-Authenticate')! : '';
    expect(challenge).toMatch(/realm="PolycomSPIP"/);
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const md5 = (x: string) => createHash('md5').update(x).digest('hex');
    const authFor = (password: string) => {
      const uri = `sip:1001@127.0.0.1:${port}`;
      const ha1 = md5(`1001:PolycomSPIP:${password}`);
      const ha2 = md5(`NOTIFY:${uri}`);
      const response = md5(`${ha1}:${nonce}:00000001:abcd:auth:${ha2}`);
      return `Authorization: Digest username="1001", realm="PolycomSPIP", nonce="${nonce}", uri="${uri}", response="${response}", qop=auth, nc=00000001, cnonce="abcd", algorithm=MD5`;
    };
    const wrong = await send(port, notify(port, [authFor('nope')]));
    expect(wrong.ok && wrong.message.kind === 'response' && wrong.message.status).toBe(401);
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(0);
    const good = await send(port, notify(port, [authFor('linepass')]));
    expect(good.ok && good.message.kind === 'response' && good.message.status).toBe(200);
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
  });

  test('facts §4.2: prov.polling.* from the effective configuration schedules the next poll', async () => {
    const { phone } = await setup(tree('prov.polling.enabled="1" prov.polling.mode="rel" prov.polling.period="7200"'));
    const started = Date.now();
    expect(phone.nextPollAt).toBeGreaterThanOrEqual(started + 7200_000 - 60_000);
    expect(phone.nextPollAt).toBeLessThanOrEqual(Date.now() + 7200_000);
    const { phone: quiet } = await setup(tree());
    expect(quiet.nextPollAt).toBeUndefined();
  });

  test('facts §4.1 end to end: polyprov notify answers the PolycomSPIP digest challenge with the line credentials', async () => {
    const { phone } = await setup(tree('voIpProt.SIP.requestValidation.1.request="NOTIFY" voIpProt.SIP.requestValidation.1.method="digest"'));
    const data = await mkdtemp(join(tmpdir(), 'notify-data-'));
    closers.push(() => rm(data, { recursive: true, force: true }));
    const r = await runCli(['notify', `sip:1001@127.0.0.1:${phone.sipPort}`, '--user', '1001', '--password-stdin', '--confirm-timeout', '0', '--json', '--data', data], 'linepass\n');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]!) as { status: number; challenges: number };
    expect(line).toMatchObject({ status: 200, challenges: 1 });
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
    const wrong = await runCli(['notify', `sip:1001@127.0.0.1:${phone.sipPort}`, '--user', '1001', '--password-stdin', '--confirm-timeout', '0', '--json', '--data', data], 'nope\n');
    expect(wrong.code).toBe(1);
    expect((JSON.parse(wrong.stdout.trim().split('\n')[0]!) as { status: number }).status).toBe(401);
    expect(phone.records.filter((x) => x.kind === 'check-sync')).toHaveLength(1);
  });

  test('RFC 3261 §18: the phone also takes check-sync over TCP (polyprov notify --transport tcp)', async () => {
    const { phone } = await setup(tree());
    const data = await mkdtemp(join(tmpdir(), 'notify-data-'));
    closers.push(() => rm(data, { recursive: true, force: true }));
    const r = await runCli(['notify', `sip:1001@127.0.0.1:${phone.sipPort};transport=tcp`, '--confirm-timeout', '0', '--json', '--data', data]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((JSON.parse(r.stdout.trim().split('\n')[0]!) as { status: number }).status).toBe(200);
    await until(() => phone.records.find((x) => x.kind === 'check-sync'));
  });
});
