// `polyprov settings set … --notify` (issue 14, CLI: "--notify sends check-sync to the phones whose
// effective configuration changed (reuse notify, paced as it is)"): a managed phone seen at
// 127.0.0.1 gets the check-sync NOTIFY at the SIP port and line its managed settings give it —
// proof that notify read the phone's managed file — and a set that changes nothing sends nothing.
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeStarterTree } from '../../src/cli/init.ts';
import type { Mac } from '../../src/domain.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov } from './run-cli.ts';

const MAC = '0004f2000021' as Mac;
const OTHER = '0004f2000022' as Mac;
let dir: string;
let root: string;
let data: string;
const received: string[] = [];
const sock = dgram.createSocket('udp4');

/** A phone's SIP stack, enough of it: 200 OK to every NOTIFY, headers echoed (RFC 3261 §8.2.6). */
sock.on('message', (m, from) => {
  const text = m.toString('latin1');
  received.push(text);
  const h = (name: string) => text.split('\r\n').filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const to = h('To')[0] ?? 'To: <sip:x@127.0.0.1>';
  const reply = ['SIP/2.0 200 OK', ...h('Via'), ...h('From'), to.includes(';tag=') ? to : `${to};tag=phone1`, ...h('Call-ID'), ...h('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
  sock.send(reply, from.port, from.address);
});

beforeAll(async () => {
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  dir = mkdtempSync(join(tmpdir(), 'polyprov-settings-notify-'));
  root = join(dir, 'site');
  data = join(dir, 'data');
  await writeStarterTree(root);
  const store = await openStore({ data, storeUrl: 'sqlite' });
  for (const mac of [MAC, OTHER]) await store.phones.recordSighting({ mac, at: new Date(Date.now() - 60_000), source: 'http', address: '127.0.0.1', model: 'VVX410' });
  await store.close();
});
afterAll(() => {
  sock.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => polyprov([...args, '--data', data], { timeoutMs: 60_000 });

describe('settings set --notify (issue 14, CLI)', { timeout: 180_000 }, () => {
  test('the phone whose effective configuration changed gets check-sync at the port and line its managed settings give; the other phone does not', async () => {
    for (const mac of [MAC, OTHER]) expect((await cli(['fleet', 'add', mac, '--model', 'VVX410'])).code).toBe(0);
    const port = (sock.address() as { port: number }).port;
    const r = await cli(['settings', 'set', `phone:${MAC}`, 'reg.1.address=4321', `voIpProt.SIP.local.port=${port}`, '--notify', '--rate', '50/s', '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`phone:${MAC}: 1 change recorded; 1 phone affected`);
    expect(r.stdout).toMatch(/1 target\(s\): 1 accepted/);
    const notifies = received.filter((m) => m.startsWith('NOTIFY '));
    expect(notifies).toHaveLength(1);
    expect(notifies[0]).toMatch(new RegExp(`^NOTIFY sip:4321@127\\.0\\.0\\.1:${port} SIP/2\\.0`));
    expect(notifies[0]).toMatch(/\r\nEvent: check-sync/i);
  });

  test('a set that changes nothing sends nothing and says so', async () => {
    const port = (sock.address() as { port: number }).port;
    const before = received.length;
    const r = await cli(['settings', 'set', `phone:${MAC}`, 'reg.1.address=4321', `voIpProt.SIP.local.port=${port}`, '--notify', '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing changed; 0 phones affected');
    expect(r.stderr).toContain('nothing sent');
    expect(received.length).toBe(before);
  });
});
