// Shared fixtures for the TFTP integration tests: a server on 127.0.0.1 port 0 over the real boot
// service (test/support/boot-core.ts: the whole core over the in-memory store), real client
// processes with timeouts, and a raw UDP peer for hostile traffic. Uploads land in the store, as
// they do under `polyprov serve`; read them back with `f.stored(name)`.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mac, UploadKind } from '../../src/domain.ts';
import { decodePacket, type Packet } from '../../src/transports/tftp/packet.ts';
import { startTftpServer, type StartTftpServerOptions, type TftpServer, type TftpServerOptions } from '../../src/transports/tftp/server.ts';
import { startBootCore, type BootCore, type ObservedCore } from '../support/boot-core.ts';

export const TEST_OPTIONS: TftpServerOptions = {
  tftpBlksizeMax: 65464,
  tftpWindowsizeMax: 64,
  tftpTimeoutMs: 200,
  tftpRetries: 3,
  tftpMaxSessions: 50,
};

/**
 * The default master file of the test tree: no directory attributes, so a phone's uploads go to
 * the root of the provisioning path (white paper, Master Configuration File: "If this parameter
 * is set to null, the phone will read and/or write … to the root of the provisioning server path").
 */
export const MASTER = '<?xml version="1.0" standalone="yes"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg"/>\n';

const UPLOAD_KINDS: Array<[string, UploadKind]> = [
  ['-boot.log', 'log-boot'],
  ['-app.log', 'log-app'],
  ['-phone.cfg', 'override-phone'],
  ['-web.cfg', 'override-web'],
  ['-directory.xml', 'directory'],
  ['-calls.xml', 'calls'],
];

export interface Fixture {
  dir: string;
  out: string;
  /** The real core, observed: `requests` the adapter made, `finished` transfers it reported. */
  service: ObservedCore;
  boot: BootCore;
  server: TftpServer;
  port: number;
  /** The stored upload of a root-level upload name (`0004f2000001-boot.log`), or undefined. */
  stored(name: string): Promise<Buffer | undefined>;
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
  await writeFile(join(dir, '000000000000.cfg'), MASTER);
  const limits = uploadMaxBytes === undefined ? {} : { uploadMaxBytesLog: uploadMaxBytes, uploadMaxBytesOverride: uploadMaxBytes, uploadMaxBytesDirectory: uploadMaxBytes, uploadMaxBytesCalls: uploadMaxBytes };
  const boot = await startBootCore({ policy: 'open', ...limits }, dir);
  const service = boot.service;
  const server = await startTftpServer({ host: '127.0.0.1', port: 0, service, options: { ...TEST_OPTIONS, ...options }, workers, ...extra });
  return {
    dir,
    out,
    service,
    boot,
    server,
    port: server.address().port,
    async stored(name: string) {
      const kind = UPLOAD_KINDS.find(([suffix]) => name.endsWith(suffix));
      if (!kind) throw new Error(`${name} is not an upload name`);
      return boot.stored({ mac: name.slice(0, 12) as Mac, kind: kind[1], path: name });
    },
    async close() {
      await server.close();
      await boot.close();
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
