// A private PostgreSQL cluster for tests that stop and start the database (issue 13 item 13, issue
// 16 Several nodes and Behaviour under faults): initdb as user postgres (via runuser) in a temp
// directory, on a free loopback port, never the machine's shared cluster; stop and start run
// asynchronously so the test's own requests and virtual phones keep running while pg_ctl waits.
// The one such helper: test/store/postgres-outage.test.ts, test/nodes/outage.test.ts and
// test/nodes/faults-pg-restart.test.ts use it.
// `privateCluster()` is undefined, after one line naming the package, where that is not possible.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { missingPeer, peerPath, requirePeer, requirePeers } from './peers.ts';

export function canRunPrivateCluster(): boolean {
  if (!requirePeers('initdb', 'pg_ctl') || !requirePeer('postgres', 'postgresql') || !requirePeer('runuser', 'util-linux')) return false;
  if (process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postgres']).status !== 0) {
    missingPeer('a private PostgreSQL cluster (initdb runs as user postgres via runuser: needs root and the postgres user)', 'postgresql', 'not possible here');
    return false;
  }
  return true;
}

function asPostgres(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${args.join(' ')} failed: ${err.message} ${stdout}${stderr}`)) : resolve()));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateCluster {
  url: string;
  start(): Promise<void>;
  /** pg_ctl stop -m fast: open connections are ended, as a restart by an administrator does. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export async function privateCluster(): Promise<PrivateCluster> {
  const bin = dirname(peerPath('pg_ctl') ?? '/usr/local/bin/pg_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'polyprov-pg-cluster-'));
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, id('-u'), id('-g'));
  const pgdata = join(dir, 'pgdata');
  await asPostgres([join(bin, 'initdb'), '-D', pgdata, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions', '-E', 'UTF8']);
  const port = await freePort();
  const pgCtl = (...args: string[]) => asPostgres([join(bin, 'pg_ctl'), '-D', pgdata, ...args]);
  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', 'start'),
    stop: () => pgCtl('-m', 'fast', '-w', 'stop'),
    async destroy() {
      if (existsSync(join(pgdata, 'postmaster.pid'))) await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
