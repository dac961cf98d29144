// `polyprov notify` end to end: the real CLI (bin/polyprov) as a child process, sipp as the
// phone, a temp store as the inventory and a fixture tree for the effective configuration.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { Mac } from '../../src/config/types.ts';
import { startSipp, type Sipp } from './sipp.ts';
import { PUSH_BODY, PUSH_CONTENT_TYPE } from '../../src/sip/push.ts';
import { requirePeer } from '../support/peers.ts';

const BIN = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/trees/check-sync/', import.meta.url));
const MAC = '0004f2000010' as Mac;

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function polyprov(args: string[], o: { stdin?: string; whileRunning?: (stdoutSoFar: () => string) => Promise<void> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, POLYPROV_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), 25_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(o.stdin ?? '');
    void o.whileRunning?.(() => stdout);
  });
}

async function sipp(scenario: string, o: Parameters<typeof startSipp>[1] = {}): Promise<Sipp> {
  const s = await startSipp(scenario, o);
  cleanups.push(() => s.stop());
  return s;
}

/** A temp data dir holding one phone seen at 127.0.0.1, and a copy of the fixture tree with the phone's SIP port. */
async function inventory(sipPort: number): Promise<{ data: string; root: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-notify-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'site');
  cpSync(FIXTURE, root, { recursive: true });
  const sipCfg = join(root, 'sip.cfg');
  writeFileSync(sipCfg, readFileSync(sipCfg, 'utf8').replace('voIpProt.SIP.local.port="5060"', `voIpProt.SIP.local.port="${sipPort}"`));
  const data = join(dir, 'data');
  const store = await openStore({ data, storeUrl: 'sqlite' });
  await store.phones.recordSighting({ mac: MAC, at: new Date(Date.now() - 60_000), source: 'http', address: '127.0.0.1', model: 'SPIP650' });
  await store.close();
  return { data, root };
}

function jsonLines(s: string): Record<string, unknown>[] {
  return s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const HAVE_SIPP = requirePeer('sipp', 'sip-tester');

describe('polyprov notify (issue 6)', () => {
  test.skipIf(!HAVE_SIPP)('facts §4.1: a MAC target takes its address from the inventory and its reg.1 user and credentials from its effective configuration', async () => {
    // The fixture's 0004f2000010-line.cfg sets reg.1.address=1010@pbx.example.com, userId 1010, password Line10-s3cret;
    // sip.cfg (read later, so shadowed) has the site placeholder. sipp accepts only the phone's own line credentials.
    const s = await sipp('uas-digest.xml', { keys: { user: '1010', pass: 'Line10-s3cret' } });
    const inv = await inventory(s.port);
    const r = await polyprov(['notify', MAC, '--data', inv.data, '--root', inv.root, '--json', '--t1', '50', '--confirm-timeout', '1']);
    expect(r.stderr).toBe('');
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ target: MAC, mac: MAC, address: `127.0.0.1:${s.port}`, status: 200, confirmed: false, challenges: 1 });
    expect(typeof line!.rtt_ms).toBe('number');
    expect(Object.keys(line!).slice(0, 5)).toEqual(['target', 'address', 'status', 'rtt_ms', 'confirmed']);
    expect(r.code).toBe(0);
    const log = readFileSync(s.messageFile, 'utf8');
    expect(log).toMatch(new RegExp(`^NOTIFY sip:1010@127\\.0\\.0\\.1:${s.port} SIP/2\\.0`, 'm'));
    expect(log).not.toContain('site-placeholder');
    // The password never reaches the output.
    expect(r.stdout + r.stderr).not.toContain('Line10-s3cret');
  });

  test.skipIf(!HAVE_SIPP)('white paper, Reconfiguring the Phone Remotely: confirmed is true once the phone comes back to the boot server', async () => {
    const s = await sipp('uas-200.xml');
    const inv = await inventory(s.port);
    const r = await polyprov(['notify', 'all', '--data', inv.data, '--root', inv.root, '--json', '--t1', '50', '--confirm-timeout', '20'], {
      whileRunning: async () => {
        await s.exited; // sipp has answered 200
        const store = await openStore({ data: inv.data, storeUrl: 'sqlite' });
        await store.phones.recordSighting({ mac: MAC, at: new Date(), source: 'http', address: '127.0.0.1', file: { path: '000000000000.cfg', op: 'read', status: '200' } });
        await store.close();
      },
    });
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ target: MAC, status: 200, confirmed: true });
    expect(r.code).toBe(0);
  });

  test.skipIf(!HAVE_SIPP)('a MAC the inventory does not know is an error for that target, exit 1; a non-inventory target has confirmed null', async () => {
    const s = await sipp('uas-200.xml');
    const inv = await inventory(s.port);
    const r = await polyprov(['notify', '0004f2ffffff', `127.0.0.1:${s.port}`, '--data', inv.data, '--root', inv.root, '--json', '--t1', '50']);
    const lines = jsonLines(r.stdout);
    expect(lines.find((l) => l.target === '0004f2ffffff')).toMatchObject({ status: 'error', confirmed: null });
    expect(lines.find((l) => l.target === `127.0.0.1:${s.port}`)).toMatchObject({ status: 200, confirmed: null });
    expect(r.code).toBe(1);
  });

  test('usage errors exit 2 before anything is sent', async () => {
    for (const args of [['notify', 'not a target'], ['notify', '10.0.0.1', '--rate', 'fast'], ['notify', '10.0.0.1', '--transport', 'sctp'], ['notify', '10.0.0.1', '--user', 'u']]) {
      const r = await polyprov(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  test('facts §3.5 --push: POST Action:UpdateConfig as application/x-com-polycom-spipx to /push, answering the Digest challenge', async () => {
    const seen: { auth?: string; type?: string; body: string; url?: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, type: req.headers['content-type'], body, url: req.url });
        const a = req.headers.authorization;
        const f = new Map([...(a ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1]!, m[2] ?? m[3]!]));
        // Independent check of RFC 2617 §3.2.2.1 with qop=auth.
        const md5 = (x: string) => createHash('md5').update(x).digest('hex');
        const expected = md5(`${md5('pushadmin:PolycomSPIP:Push10-s3cret')}:${f.get('nonce')}:${f.get('nc')}:${f.get('cnonce')}:auth:${md5(`POST:${f.get('uri')}`)}`);
        if (!a || f.get('nonce') !== 'pushnonce' || f.get('response') !== expected || f.get('username') !== 'pushadmin') {
          res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="PolycomSPIP", nonce="pushnonce", qop="auth"' }).end();
          return;
        }
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const r = await polyprov(['notify', `127.0.0.1:${port}`, '--push', '--push-scheme', 'http', '--user', 'pushadmin', '--password-stdin', '--json'], { stdin: 'Push10-s3cret\n' });
    expect(jsonLines(r.stdout)[0]).toMatchObject({ status: 200, challenges: 1, address: `127.0.0.1:${port}` });
    expect(r.code).toBe(0);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ type: PUSH_CONTENT_TYPE, body: PUSH_BODY, url: '/push' });
    const bad = await polyprov(['notify', `127.0.0.1:${port}`, '--push', '--push-scheme', 'http', '--user', 'pushadmin', '--password-stdin', '--json'], { stdin: 'wrong\n' });
    expect(jsonLines(bad.stdout)[0]).toMatchObject({ status: 401 });
    expect(bad.code).toBe(1);
  });
});
