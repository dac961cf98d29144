// One file transfer as the phone makes it, with the documented fault handling (SEED-AG, Server
// Menu): File Transmit Tries (1–10), Retry Wait measured from the start of an attempt, an attempt
// being one try at every address of the server's name, at most eight of them (SEED-AG, Deploying
// Phones From the Boot Server). Every request is recorded for the boot record.
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../domain.ts';
import { sleep } from '../util/clock.ts';
import type { RequestRecord, Stage } from './boot-types.ts';
import type { ClientFactory } from './clients.ts';
import type { FetchResult, FileClient } from './file-client.ts';
import { IMAGE_HEADER_BYTES } from './image-header.ts';
import { formatServerAddress, type FileRef, type ServerAddress } from './server-address.ts';

export interface TransferOptions {
  tries: number;
  retryWaitSec: number;
  maxServers: number;
  clock: Clock;
  makeClient: ClientFactory;
  lookup?: (host: string) => Promise<string[]>;
  record: (r: RequestRecord) => void;
}

/** `protocol://host[:port]/` of a server address (formatServerAddress with no directory), once per address object. */
const urlBases = new WeakMap<ServerAddress, string>();
function urlBase(server: ServerAddress): string {
  let b = urlBases.get(server);
  if (b === undefined) {
    b = formatServerAddress({ ...server, directory: '' }, '');
    urlBases.set(server, b);
  }
  return b;
}

export class Transfers {
  private readonly clients = new Map<string, FileClient>();
  private readonly addresses = new Map<string, Promise<string[]>>();
  private last?: { server: ServerAddress; address: string; client: FileClient };

  constructor(private readonly o: TransferOptions) {}

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
  }

  addressesOf(host: string): Promise<string[]> {
    let p = this.addresses.get(host);
    if (!p) {
      p = (async () => {
        if (net.isIP(host)) return [host];
        const all = this.o.lookup ? await this.o.lookup(host) : (await dnsLookup(host, { all: true })).map((a) => a.address);
        // SEED-AG, Deploying Phones From the Boot Server: at most eight boot servers per name.
        return all.slice(0, Math.max(1, Math.min(8, this.o.maxServers)));
      })();
      this.addresses.set(host, p);
    }
    return p;
  }

  private client(server: ServerAddress, address: string): FileClient {
    // Nearly every request of a boot goes to the same server object and address as the last one.
    const last = this.last;
    if (last && last.server === server && last.address === address) return last.client;
    const key = `${server.protocol}|${server.ftpsMode ?? ''}|${address}|${server.port}|${server.user}|${server.password}`;
    let c = this.clients.get(key);
    if (!c) {
      c = this.o.makeClient(server, address);
      this.clients.set(key, c);
    }
    this.last = { server, address, client: c };
    return c;
  }

  /**
   * One file transfer with the documented retries: an attempt tries every address of the name
   * in order; the next attempt starts no sooner than Retry Wait after the start of the previous
   * one. A definitive answer (found, not found, refused) ends it at once.
   */
  async transfer(stage: Stage, userAgent: string, ref: FileRef, op: 'get' | 'head' | 'put', body?: Buffer, append?: boolean): Promise<FetchResult> {
    const url = urlBase(ref.server) + ref.path;
    let addrs: string[];
    try {
      addrs = await this.addressesOf(ref.server.host);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const r: FetchResult = { status: 'error', bytes: 0, wire: err.code ?? 'ENOTFOUND', error: err.message };
      this.o.record({ stage, method: op === 'put' ? 'PUT' : 'GET', url, address: ref.server.host, attempt: 1, status: r.status, wire: r.wire, bytes: 0, ms: 0, error: r.error });
      return r;
    }
    const tries = Math.min(10, Math.max(1, this.o.tries));
    let last: FetchResult = { status: 'error', bytes: 0, wire: 'none' };
    const ua = userAgent;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const started = this.o.clock.now();
      for (const address of addrs) {
        const client = this.client(ref.server, address);
        const t = performance.now();
        last =
          op === 'get'
            ? await client.get(ref.path, { userAgent: ua })
            : op === 'head'
              ? await client.headThenHangUp(ref.path, IMAGE_HEADER_BYTES, { userAgent: ua })
              : await client.put(ref.path, body ?? Buffer.alloc(0), { userAgent: ua, append });
        const rec: RequestRecord = { stage, method: op === 'put' ? 'PUT' : 'GET', url, address, attempt, status: last.status, wire: last.wire, bytes: last.bytes, ms: Math.round((performance.now() - t) * 100) / 100 };
        if (op === 'head') rec.hangUp = true;
        if (ref.server.protocol === 'http' || ref.server.protocol === 'https') rec.userAgent = ua;
        if (last.error) rec.error = last.error;
        this.o.record(rec);
        if (last.status !== 'error') return last;
      }
      if (attempt < tries) {
        const wait = this.o.retryWaitSec * 1000 - (this.o.clock.now() - started);
        if (wait > 0) await sleep(this.o.clock, wait);
      }
    }
    return last;
  }

}
