// Shared fixtures for the TFTP integration tests: a server on 127.0.0.1 port 0 over the fake
// boot service, real client processes with timeouts, and a raw UDP peer for hostile traffic.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePacket, type Packet } from '../../src/transports/tftp/packet.ts';
import { startTftpServer, type StartTftpServerOptions, type TftpServer, type TftpServerOptions } from '../../src/transports/tftp/server.ts';
import { FakeBootService } from './fake-service.ts';

export const TEST_OPTIONS: TftpServerOptions = {
  tftpBlksizeMax: 65464,
  tftpWindowsizeMax: 64,
  tftpTimeoutMs: 200,
  tftpRetries: 3,
  tftpMaxSessions: 50,
};

export interface Fixture {
  dir: string;
  out: string;
  service: FakeBootService;
  server: TftpServer;
  port: number;
  close(): Promise<void>;
}

export async function startFixture(
  options: Partial<TftpServerOptions> = {},
  uploadMaxBytes?: number,
  workers = 0,
  extra: Pick<StartTftpServerOptions, 'sharedContent'> = {},
): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'polyprov-tftp-'));
  const out = await mkdtemp(join(tmpdir(), 'polyprov-tftp-out-'));
  const service = new FakeBootService(dir, uploadMaxBytes);
  const server = await startTftpServer({ host: '127.0.0.1', port: 0, service, options: { ...TEST_OPTIONS, ...options }, workers, ...extra });
  return {
    dir,
    out,
    service,
    server,
    port: server.address().port,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client; never rejects, the caller checks the outcome. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Polls `cond` every 20 ms, up to `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

export interface Received {
  packet: Packet | undefined;
  raw: Buffer;
  port: number;
}

/** A raw UDP peer: send any bytes, await replies one at a time. */
export class RawPeer {
  private readonly socket = dgram.createSocket('udp4');
  private readonly inbox: Received[] = [];
  private waiter: (() => void) | undefined;

  static async open(): Promise<RawPeer> {
    const p = new RawPeer();
    await new Promise<void>((r) => p.socket.bind(0, '127.0.0.1', () => r()));
    return p;
  }

  private constructor() {
    this.socket.on('message', (raw, rinfo) => {
      let packet: Packet | undefined;
      try {
        packet = decodePacket(raw);
      } catch {
        packet = undefined;
      }
      this.inbox.push({ packet, raw, port: rinfo.port });
      this.waiter?.();
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer, port: number): void {
    this.socket.send(bytes, port, '127.0.0.1');
  }

  /** The next datagram, or undefined after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<Received | undefined> {
    const until = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = until - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift();
  }

  drain(): Received[] {
    return this.inbox.splice(0);
  }

  close(): void {
    this.socket.close();
  }
}
