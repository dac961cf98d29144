// Issue 14 "CLI" and "Tests": "`render` output linted and booted by the virtual phone from a plain
// static server (tftpd-hpa or nginx) with the same effective configuration as from polyprov". A
// small fleet (phone, global scopes, a password with XML metacharacters) is imported, `polyprov
// render --out DIR` writes the classic tree, `polyprov lint DIR` finds nothing, and each phone boots
// from nginx (HTTP) and from tftpd-hpa (TFTP) serving DIR, and from `polyprov serve` serving the
// managed tree: the same parameters, values and sources, and the same clear secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../../src/config/types.ts';
import type { BootRecord } from '../../src/phone/boot-types.ts';
import { runCli, startServe, type ServeChild } from '../phone/serve-child.ts';
import { requirePeer } from '../support/peers.ts';
import { boot, clearParams, clearValue, cli, csvField, writeManagedTree } from './fleet-fixture.ts';

const MACS = ['0004f2e4e001', '0004f2e4e002', '0004f2e4e003'] as Mac[];
const META_PW = `r"<&'>`;
const HAVE_NGINX = requirePeer('nginx', 'nginx');
const HAVE_TFTPD = requirePeer('in.tftpd', 'tftpd-hpa');

let dir: string;
let root: string;
let out: string;
let data: string;
let server: ServeChild;
const peers: ChildProcess[] = [];

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitHttp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answered on port ${port}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-e2e-render-'));
  // nginx's worker and in.tftpd read the rendered tree as whoever they run as.
  await chmod(dir, 0o755);
  root = join(dir, 'root');
  out = join(dir, 'rendered');
  data = join(dir, 'data');
  await writeManagedTree(root);
  const rows = MACS.map((m, i) => [m, 'VVX410', `Desk ${i}`, String(5000 + i), String(5000 + i), i === 1 ? META_PW : `pw-${i}-static`].map(csvField).join(','));
  await writeFile(join(dir, 'fleet.csv'), `mac,model,label,reg.1.address,reg.1.auth.userId,reg.1.auth.password\n${rows.join('\n')}\n`);
  await cli(data, ['fleet', 'import', join(dir, 'fleet.csv')]);
  await cli(data, ['settings', 'set', 'global', 'tcpIpApp.sntp.address=fleet.ntp.example.com', 'reg.1.label=Fleet & Co']);
  await cli(data, ['settings', 'set', `phone:${MACS[2]}`, 'reg.1.label=Reception']);
  await cli(data, ['render', '--out', out, '--root', root]);
  server = await startServe(['--root', root, '--policy', 'open', '--data', data, '--log-level', 'error'], ['http', 'tftp']);
}, 180_000);

afterAll(async () => {
  for (const p of peers) p.kill('SIGKILL');
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The boot record's comparable part: the effective configuration (masked, with sources) and the clear values. */
function seen(rec: BootRecord) {
  return { configFiles: rec.effective?.configFiles, params: rec.effective?.params, clear: clearParams(rec) };
}

describe('issue 14 CLI: render --out writes a classic static tree', () => {
  test('issue 14 Tests: the rendered tree holds the master and managed/<MAC>.cfg of every phone, and lint finds nothing in it', async () => {
    for (const m of MACS) expect((await readFile(join(out, 'managed', `${m}.cfg`))).length).toBeGreaterThan(0);
    expect((await readFile(join(out, 'site.cfg'), 'utf8')).length).toBeGreaterThan(0);
    const lint = await runCli(['lint', out, '--json']);
    expect(lint.code, lint.stderr).toBe(0);
    const findings = JSON.parse(lint.stdout) as Array<{ severity: string; code: string; file: string; message: string }>;
    expect(findings.filter((f) => f.severity === 'error' || f.severity === 'warning')).toEqual([]);
    // The tree it came from lints as clean: render adds no finding of its own.
    const src = await runCli(['lint', root, '--json']);
    expect(JSON.parse(src.stdout).filter((f: { severity: string }) => f.severity !== 'info')).toEqual([]);
  }, 60_000);

  test.skipIf(!HAVE_NGINX)('issue 14 Tests: booted from nginx serving the rendered tree, each phone ends with what polyprov serve gives it', async () => {
    const port = await freePort('tcp');
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `${process.getuid?.() === 0 ? 'user root;' : ''} worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log; events { worker_connections 64; }
http { access_log off; client_body_temp_path ${dir}/nginx-body; server { listen 127.0.0.1:${port}; root ${out}; } }`,
    );
    const nginx = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
    peers.push(nginx);
    await waitHttp(port);
    for (const mac of MACS) {
      const fromNginx = await boot(`http://127.0.0.1:${port}/`, mac);
      const fromPolyprov = await boot(`http://127.0.0.1:${server.ports.http}/`, mac);
      expect(fromNginx.configFrom, JSON.stringify(fromNginx.messages)).toBe('server');
      expect(fromPolyprov.configFrom).toBe('server');
      expect(seen(fromNginx)).toEqual(seen(fromPolyprov));
      expect(clearValue(fromNginx, 'tcpIpApp.sntp.address')).toBe('fleet.ntp.example.com');
    }
    const meta = await boot(`http://127.0.0.1:${port}/`, MACS[1]!);
    expect(clearValue(meta, 'reg.1.auth.password')).toBe(META_PW);
    expect(clearValue(meta, 'reg.1.label')).toBe('Fleet & Co');
    expect(clearValue(await boot(`http://127.0.0.1:${port}/`, MACS[2]!), 'reg.1.label')).toBe('Reception');
    nginx.kill('SIGTERM');
  });

  test.skipIf(!HAVE_TFTPD)('issue 14 Tests: booted from tftpd-hpa serving the rendered tree, each phone ends with what polyprov serve gives it over TFTP', async () => {
    const port = await freePort('udp');
    const tftpd = spawn('in.tftpd', ['-L', '-a', `127.0.0.1:${port}`, '-p', '-u', 'root', '-s', out], { stdio: 'ignore' });
    peers.push(tftpd);
    await new Promise((r) => setTimeout(r, 300));
    for (const mac of MACS) {
      const fromTftpd = await boot(`tftp://127.0.0.1:${port}/`, mac);
      const fromPolyprov = await boot(`tftp://127.0.0.1:${server.ports.tftp}/`, mac);
      expect(fromTftpd.configFrom, JSON.stringify(fromTftpd.messages)).toBe('server');
      expect(fromPolyprov.configFrom).toBe('server');
      expect(seen(fromTftpd)).toEqual(seen(fromPolyprov));
    }
    expect(clearValue(await boot(`tftp://127.0.0.1:${port}/`, MACS[1]!), 'reg.1.auth.password')).toBe(META_PW);
    tftpd.kill('SIGTERM');
  });
});
