// Issue 13 item 20: `polyprov notify MAC` for a phone whose SIP port was never learned and is not in
// its configuration (voIpProt.SIP.local.port, facts §4.1) says so and how to fix it, exit 1, at once —
// instead of a 32-second timer F on a guessed 5060. With the port configured, the NOTIFY goes there.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/domain.ts';
import { openStore } from '../../src/store/open.ts';
import { polyprov } from '../cli/run-cli.ts';
import { tempDir } from '../support/tree.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/trees/check-sync/', import.meta.url));
const MAC = '0004f2000010' as Mac;

/** The check-sync fixture tree with voIpProt.SIP.local.port set to `port` or removed, and a data dir where the phone was seen at 127.0.0.1. */
async function phoneSeen(port: number | undefined): Promise<{ root: string; data: string }> {
  const dir = tempDir('polyprov-notify-port-');
  const root = join(dir, 'site');
  cpSync(FIXTURE, root, { recursive: true });
  const sipCfg = join(root, 'sip.cfg');
  const text = readFileSync(sipCfg, 'utf8');
  writeFileSync(sipCfg, text.replace('voIpProt.SIP.local.port="5060"', port === undefined ? '' : `voIpProt.SIP.local.port="${port}"`));
  const data = join(dir, 'data');
  const store = await openStore({ data, storeUrl: 'sqlite' });
  await store.phones.recordSighting({ mac: MAC, at: new Date(Date.now() - 60_000), source: 'http', address: '127.0.0.1', model: 'SPIP650' });
  await store.close();
  return { root, data };
}

const sock = dgram.createSocket('udp4');
const received: string[] = [];
sock.on('message', (m) => received.push(m.toString('latin1')));
await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
afterAll(() => sock.close());

describe('notify MAC: the SIP port (issue 13 item 20)', () => {
  test('never learned, not configured: an error naming the fix, exit 1, nothing sent, no 32-second wait', async () => {
    const { root, data } = await phoneSeen(undefined);
    const started = Date.now();
    const r = await polyprov(['notify', MAC, '--root', root, '--data', data, '--json']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code, r.stderr).toBe(1);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]!) as { status: string; error: string; rtt_ms: number | null };
    expect(line).toMatchObject({ status: 'error', rtt_ms: null });
    expect(line.error).toMatch(/SIP port was never learned/);
    expect(line.error).toContain('polyprov notify sip:1010@127.0.0.1:PORT');
    expect(line.error).toContain('voIpProt.SIP.local.port');
  });

  test('configured voIpProt.SIP.local.port: the check-sync NOTIFY is sent to that port', async () => {
    const port = (sock.address() as { port: number }).port;
    const { root, data } = await phoneSeen(port);
    const r = await polyprov(['notify', MAC, '--root', root, '--data', data, '--json', '--timeout', '1500', '--confirm-timeout', '0']);
    expect(r.code).toBe(1); // nobody answers on the socket: a timeout, but the NOTIFY went to the configured port
    expect(received.some((m) => m.startsWith(`NOTIFY sip:1010@127.0.0.1:${port} SIP/2.0`))).toBe(true);
  });
});
