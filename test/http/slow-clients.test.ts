// Issue 13 item 14: after the header (or body) timeout the HTTP face answers 408 and destroys
// the socket. Before, it sent 408 and FIN but kept its end open until the client closed, so
// clients that never close (silent ones, partial headers, one byte a second) each held a server
// descriptor for as long as they stayed; a few hundred exhaust `ulimit -n`, which HTTP, FTP,
// TFTP and SQLite share. The server runs as a child process so its descriptors can be counted
// apart from the clients' (/proc/<pid>/fd).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { standardTree, tempDir } from '../support/tree.ts';

const HEADER_TIMEOUT_MS = 1000;
const PER_KIND = 100;

let child: ChildProcess | undefined;
const clients: Socket[] = [];
afterAll(() => {
  for (const c of clients) c.destroy();
  child?.kill('SIGKILL');
});

function startChild(): Promise<{ proc: ChildProcess; port: number }> {
  const options = { root: standardTree(), data: tempDir(), policy: 'open', httpHeaderTimeoutMs: HEADER_TIMEOUT_MS, httpBodyTimeoutMs: 2 * HEADER_TIMEOUT_MS };
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'serve-child.ts'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    proc.stderr!.on('data', (c) => (out += c));
    proc.stdout!.on('data', (c) => {
      out += c;
      const m = /http listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

const descriptors = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

function client(port: number, kind: 'silent' | 'partial' | 'slow', replies: Map<Socket, string>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the server's FIN does not make this client close its own side.
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
      if (kind === 'partial') s.write('GET /site.cfg HTTP/1.1\r\nHost: x\r\n');
      if (kind === 'slow') {
        const head = 'GET /site.cfg HTTP/1.1\r\nHost: x\r\n\r\n';
        let i = 0;
        const t = setInterval(() => {
          if (s.destroyed || s.writableEnded || i >= head.length) return clearInterval(t);
          s.write(head[i++]!);
        }, 1000);
        t.unref();
      }
      resolve(s);
    });
    replies.set(s, '');
    s.on('data', (c) => replies.set(s, replies.get(s) + c.toString('latin1')));
    // The server's FIN is never answered: these clients keep their end open.
    s.on('end', () => {});
    s.on('error', () => {});
    s.once('error', reject);
  });
}

test('issue 13 item 14: 300 silent, partial-header and one-byte-a-second clients; the server descriptor count is back to its baseline within the header timeout + 2 s while they stay connected', async () => {
  const started = await startChild();
  child = started.proc;
  const pid = child.pid!;
  const baseline = descriptors(pid);
  const replies = new Map<Socket, string>();
  for (const kind of ['silent', 'partial', 'slow'] as const) {
    for (let i = 0; i < PER_KIND; i++) clients.push(await client(started.port, kind, replies));
  }
  const connectedAt = Date.now();
  // The server holds one descriptor per client once it has accepted them all.
  let peak = descriptors(pid);
  while (peak < baseline + 3 * PER_KIND && Date.now() - connectedAt < 500) {
    await new Promise((r) => setTimeout(r, 20));
    peak = Math.max(peak, descriptors(pid));
  }
  expect(peak).toBeGreaterThanOrEqual(baseline + 3 * PER_KIND - 10);
  let now = descriptors(pid);
  while (now > baseline + 2 && Date.now() - connectedAt < HEADER_TIMEOUT_MS + 2000) {
    await new Promise((r) => setTimeout(r, 100));
    now = descriptors(pid);
  }
  expect(now, `descriptors ${now}, baseline ${baseline}, after ${Date.now() - connectedAt} ms`).toBeLessThanOrEqual(baseline + 2);
  // The clients never closed their side (the server's FIN went unanswered); it answered the
  // timed-out heads with 408.
  expect(clients.every((c) => !c.writableEnded)).toBe(true);
  const partial = clients.slice(PER_KIND, 2 * PER_KIND);
  expect(partial.filter((c) => replies.get(c)!.startsWith('HTTP/1.1 408')).length).toBe(PER_KIND);
}, 90_000);
