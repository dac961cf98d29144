// Runs `polyprov serve` as a child process on loopback port 0 listeners and reads the ports back.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../src/phone/storm-server.ts';
import { childPids } from '../workers/cluster-child.ts';

export const BIN = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));

export interface ServeChild {
  ports: Record<string, number>;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `env` replaces the child's environment (default: this process's, where vitest sets POLYPROV_WORKERS=1). */
export async function startServe(args: string[], listeners: string[], timeoutMs = 45_000, env: NodeJS.ProcessEnv = process.env): Promise<ServeChild> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, ...listeners.flatMap((l) => [`--${l}`, '127.0.0.1:0'])], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ports: Record<string, number> = {};
  const stop = () => stopChild(child);
  const end = Date.now() + timeoutMs;
  while (Object.keys(ports).length < listeners.length) {
    if (child.exitCode !== null) throw new Error(`polyprov serve exited ${child.exitCode}:\n${out}`);
    if (Date.now() > end) {
      await stop();
      throw new Error(`polyprov serve did not report its listeners within ${timeoutMs} ms:\n${out}`);
    }
    for (const m of out.matchAll(/^\s*(\w+)\s+listening on [^\s]*:(\d+)/gm)) ports[m[1]!] = Number(m[2]);
    await new Promise((r) => setTimeout(r, 50));
  }
  await workersSettled(child.pid!, Math.min(20_000, end - Date.now()));
  return { ports, child, output: () => out, stop };
}

/**
 * With `--workers N` each worker accepts on the shared listening socket only while it waits for
 * events (SCHED_NONE, src/cluster/primary.ts): one still busy after its start (the standby builds
 * the admin app) takes no new connection yet, so a test that needs both workers would meet one.
 * Waits (at most `ms`) until no worker used more than a clock tick of CPU over 300 ms.
 */
async function workersSettled(primary: number, ms: number): Promise<void> {
  const cpu = (pid: number) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return NaN;
    }
  };
  const end = Date.now() + ms;
  let last: number[] = [];
  while (Date.now() < end) {
    const pids = childPids(primary);
    if (pids.length === 0) return; // one process (--workers 1)
    const now = pids.map(cpu);
    if (now.length === last.length && now.every((t, i) => t - last[i]! <= 1)) return;
    last = now;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Runs `polyprov ARGS` (stdin `input`, the environment `env`), killing it after `timeoutMs`. */
export function runCli(args: string[], input?: string, timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`polyprov ${args.join(' ')} took over ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
