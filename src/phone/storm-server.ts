// The boot storm's server side: `polyprov serve` started as a child process for the generated
// tree (rate limits lifted, a certificate for HTTPS and FTPS, a site account for FTP), and the
// figures read from /proc: CPU seconds (/proc/<pid>/stat utime+stime) and peak RSS (VmHWM).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FtpsMode } from './server-address.ts';
import type { StormTransport } from './storm-report.ts';
import { writeCertificate } from '../util/certificate.ts';

export interface Proc {
  cpuSeconds(): number | undefined;
  peakRssMb(): number | undefined;
}

export function procStats(pid: number): Proc {
  const tick = 100; // getconf CLK_TCK on Linux
  return {
    cpuSeconds: () => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields 14 (utime) and 15 (stime), counted from 1; f[0] is field 3
        return (Number(f[11]) + Number(f[12])) / tick;
      } catch {
        return undefined;
      }
    },
    peakRssMb: () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

const BIN = fileURLToPath(new URL('../../bin/polyprov', import.meta.url));

export interface StartedServer {
  url: string;
  pid: number;
  /** HTTPS storms: the HTTP listener beside it, where the bootROM stage goes (stage-protocol.ts). */
  httpPort?: number;
  stop(): Promise<void>;
}

/** Starts `polyprov serve` for the generated tree, with rate limits lifted (all phones share 127.0.0.1). */
export async function startServer(dir: string, root: string, transport: StormTransport, ftpsMode: FtpsMode, log: (m: string) => void): Promise<StartedServer> {
  const data = join(dir, 'data');
  const config = join(dir, 'polyprov.json');
  await writeFile(config, JSON.stringify({ rateLimitPerSec: 1e6, rateLimitBurst: 1e6, logLevel: 'error', tftpMaxSessions: 100000 }, null, 2));
  // Explicit FTPS is the FTP listener with a certificate (AUTH TLS); implicit has its own.
  const listener = transport === 'ftps' && ftpsMode === 'explicit' ? 'ftp' : transport;
  const args = [BIN, 'serve', '--config', config, '--root', root, '--data', data, '--policy', 'open', `--${listener}`, '127.0.0.1:0'];
  if (transport === 'https' || transport === 'ftps') {
    writeCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'), { cn: '127.0.0.1', altNames: ['127.0.0.1'] }); // in Node: no openssl needed
    args.push('--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'));
  }
  // Administrator's Guide, Supported Provisioning Protocols: with HTTPS the bootROM uses HTTP.
  if (transport === 'https') args.push('--http', '127.0.0.1:0');
  if (transport === 'ftp' || transport === 'ftps') {
    // FTP always logs in; a site account stands in for the factory PlcmSpIp one.
    execFileSync(process.execPath, [BIN, 'accounts', 'add', '--kind', 'site', '--password-stdin', '--data', data, 'stormsite'], { input: 'Storm-Pass-1\n', stdio: ['pipe', 'ignore', 'inherit'] });
  }
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = () => stopChild(child);
  const end = Date.now() + 30_000;
  for (;;) {
    const port = (l: string) => new RegExp(`^\\s*${l}\\s+listening on [^\\s]*:(\\d+)`, 'm').exec(out)?.[1];
    const m = port(listener);
    const http = transport === 'https' ? port('http') : undefined;
    if (m && (transport !== 'https' || http)) {
      const creds = transport === 'ftp' || transport === 'ftps' ? 'stormsite:Storm-Pass-1@' : '';
      log(`polyprov serve pid ${child.pid} on ${transport} port ${m}${http ? ` (bootROM HTTP port ${http})` : ''}`);
      return { url: `${transport}://${creds}127.0.0.1:${m}/`, pid: child.pid!, ...(http ? { httpPort: Number(http) } : {}), stop };
    }
    if (child.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`polyprov serve did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ends a `polyprov serve` child: SIGTERM (it flushes its audit and closes its store), SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}
