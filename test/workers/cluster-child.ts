// Test support for `serve --workers N` (issue 16, One machine, every core): the worker processes
// of a serve child (its children, read from /proc), a keep-alive HTTP connection that stays on one
// worker, and the /metrics value of one series.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { nonceWorker } from '../../src/core/digest-auth.ts';
import type { Reply } from '../support/http-client.ts';

/** The cluster workers of a serve primary: its children running src/cluster/worker-entry.mjs (not tsx's esbuild). */
export function childPids(ppid: number): number[] {
  return children(ppid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cluster/worker-entry.mjs');
    } catch {
      return false;
    }
  });
}

/** The slot a worker process was forked into (its POLYPROV_WORKER_SLOT), undefined when unreadable. */
export function slotOf(pid: number): number | undefined {
  try {
    const m = /(?:^|\0)POLYPROV_WORKER_SLOT=(\d+)\0/.exec(readFileSync(`/proc/${pid}/environ`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Which of `pids` holds the IPv4 UDP socket bound to local `port` (from /proc/net/udp and each pid's fds). */
export function udpOwner(port: number, pids: readonly number[]): number | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex) && f[9]) inodes.add(f[9]);
  }
  return socketOwner(inodes, pids);
}

/** Which of `pids` holds the IPv4 TCP connection from local `port` to remote `remotePort` (from /proc/net/tcp and each pid's fds). */
export function tcpOwner(port: number, remotePort: number, pids: readonly number[]): number | undefined {
  const hex = (p: number) => `:${p.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex(port)) && f[2]?.endsWith(hex(remotePort)) && f[9] && f[9] !== '0') inodes.add(f[9]);
  }
  return socketOwner(inodes, pids);
}

/** Which of `pids` hold the IPv4 TCP socket listening on local `port` (from /proc/net/tcp, state 0A, and each pid's fds). */
export function tcpListeners(port: number, pids: readonly number[]): number[] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex) && f[3] === '0A' && f[9]) inodes.add(f[9]);
  }
  return pids.filter((pid) => socketOwner(inodes, [pid]) !== undefined);
}

/** The first of `pids` with a descriptor on one of the socket `inodes`. */
function socketOwner(inodes: ReadonlySet<string>, pids: readonly number[]): number | undefined {
  const link = (path: string) => {
    try {
      return readlinkSync(path, 'utf8');
    } catch {
      return ''; // the fd closed meanwhile
    }
  };
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // the process ended meanwhile
    }
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec(link(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) return pid;
    }
  }
  return undefined;
}

/** The pids whose parent is `ppid`, read from /proc. */
export function children(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** One TCP connection (keep-alive, one socket): every request on it reaches the same worker. */
export class Connection {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private sockets = new Set<unknown>();
  constructor(private readonly port: number) {}

  get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Reply & { socketsUsed: number }> {
    return new Promise((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: this.port, path, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const challenges: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), challenges, socketsUsed: this.sockets.size });
        });
        res.on('error', reject);
      });
      r.on('socket', (s) => this.sockets.add(s));
      r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
      r.on('error', reject);
      r.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The value of one series in Prometheus text (0 when absent). */
export function series(text: string, name: string): number {
  for (const line of text.split('\n')) if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
  return 0;
}

/** The MD5 Digest challenge of a 401, and its nonce. */
export function digestChallenge(r: Reply): { challenge: string; nonce: string; stale: boolean } {
  const challenge = r.challenges.find((c) => /^Digest /i.test(c) && /algorithm=("?)MD5\1(,|$)/i.test(c)) ?? r.challenges.find((c) => /^Digest /i.test(c));
  if (!challenge) throw new Error(`no Digest challenge in ${r.status}: ${r.challenges.join(' | ')}`);
  return { challenge, nonce: /nonce="([^"]+)"/.exec(challenge)![1]!, stale: /stale=("?)true\1/i.test(challenge) };
}

/** What one TLS connection saw (tls-sessions, https tests). */
export interface Visit {
  /** The worker slot that served (undefined in a single process). */
  worker?: number;
  reused: boolean;
  ticket: boolean;
  /** The session to resume next. */
  session?: Buffer;
}

/** One HTTPS connection, one unauthenticated GET; the worker from the 401's nonce. */
export function httpsOnce(port: number, opts: ConnectionOptions, session?: Buffer): Promise<Visit> {
  return new Promise((resolve, reject) => {
    let data = '';
    let next: Buffer | undefined;
    let reused = false;
    let ticket = false;
    const s: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts, ...(session ? { session } : {}) }, () => {
      reused = s.isSessionReused();
      s.write('GET /site.cfg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    s.on('session', (b: Buffer) => {
      next = b;
      ticket ||= s.getTLSTicket() !== undefined;
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('close', () => {
      const nonce = /nonce="([^"]+)"/.exec(data)?.[1];
      if (!nonce) return reject(new Error(`no challenge in ${data.slice(0, 200)}`));
      resolve({ worker: nonceWorker(nonce), reused, ticket, session: next });
    });
  });
}
