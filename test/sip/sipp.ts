// Runs sipp (Debian package sip-tester) as the phone on loopback. sipp cannot bind port 0 and
// report it back, so we ask the kernel for free ports (bind 0, read, close) and hand them over;
// sipp also opens an RTP echo port (-mp) and a control port (-cp), given free ports as well so
// parallel runs never collide on its defaults 6000/8888.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

function listening(port: number, proto: 'udp' | 'tcp'): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const file = proto === 'udp' ? '/proc/net/udp' : '/proc/net/tcp';
  if (!existsSync(file)) return true;
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) && (proto === 'udp' || f[3] === '0A');
    });
}

export interface Sipp {
  port: number;
  proc: ChildProcess;
  messageFile: string;
  /** Resolves with sipp's exit code when it ends (or is killed). */
  exited: Promise<number | null>;
  output(): string;
  stop(): Promise<void>;
}

export interface SippOptions {
  transport?: 'u1' | 't1';
  calls?: number;
  keys?: Record<string, string>;
  extra?: string[];
  /** sipp's own global timeout, seconds (a bound on the child's life). */
  timeoutS?: number;
}

export async function startSipp(scenario: string, o: SippOptions = {}): Promise<Sipp> {
  const [port, mp, cp] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-sipp-'));
  const messageFile = join(dir, 'messages.log');
  const args = ['-sf', join(SCENARIOS, scenario), '-i', '127.0.0.1', '-p', String(port), '-mp', String(mp), '-cp', String(cp),
    '-t', o.transport ?? 'u1', '-m', String(o.calls ?? 1), '-nostdin', '-trace_msg', '-message_file', messageFile,
    '-timeout', `${o.timeoutS ?? 25}s`, '-timeout_error', ...(o.extra ?? [])];
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 5000;
  while (!listening(port, o.transport === 't1' ? 'tcp' : 'udp')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`sipp did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    proc,
    messageFile,
    exited,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/** Receive time (epoch ms) of the first copy of each NOTIFY (by Call-ID) in sipp's message log, in log order. */
export function notifyArrivals(messageFile: string): number[] {
  const text = existsSync(messageFile) ? readFileSync(messageFile, 'utf8') : '';
  const first = new Map<string, number>();
  const re = /-{5,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*\r?\n(?:UDP|TCP) message received[^\n]*\n\s*\nNOTIFY [\s\S]*?\nCall-ID: ([^\r\n]+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [date, time] = m[1]!.split(' ');
    const [hms, frac] = time!.split('.');
    const at = new Date(`${date}T${hms}`).getTime() + Number(`0.${frac}`) * 1000;
    if (!first.has(m[2]!)) first.set(m[2]!, at); // retransmissions (timer E) are not new sends
  }
  return [...first.values()];
}
