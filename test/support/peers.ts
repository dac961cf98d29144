// Owns the external-peer guards (issue 13 item 1: `npm test` passes on a machine with only Node.js and
// npm). A test that talks to a real peer (vsftpd, tftpd-hpa, curl, sipp, dnsmasq, PostgreSQL …) asks
// here first: when the peer is absent it is skipped with one line naming the Debian package, and under
// POLYPROV_REQUIRE_PEERS=1 (CI, .ci/run) the missing peer fails the test file instead.
//   const HAVE_VSFTPD = requirePeer('vsftpd', 'vsftpd');
//   describe.skipIf(!HAVE_VSFTPD)('…', () => { … });
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/** Debian's daemons live in sbin directories that an ordinary user's PATH often lacks. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/sbin'];

/** The Debian package of each peer program, for the skip line and the README's one install line. */
export const PEER_PACKAGES: Readonly<Record<string, string>> = {
  vsftpd: 'vsftpd',
  'in.tftpd': 'tftpd-hpa',
  atftp: 'atftp',
  tftp: 'tftp-hpa',
  lftp: 'lftp',
  sipp: 'sip-tester',
  dnsmasq: 'dnsmasq',
  dhcpd: 'isc-dhcp-server',
  'kea-dhcp4': 'kea-dhcp4-server',
  curl: 'curl',
  openssl: 'openssl',
  chromium: 'chromium',
  psql: 'postgresql',
  initdb: 'postgresql',
  pg_ctl: 'postgresql',
  nginx: 'nginx',
  wrk: 'wrk',
};

/**
 * Absolute real path of a peer program (PATH first, then the sbin and /usr/local directories), or
 * undefined. Symbolic links are resolved: a program run as another user (initdb as postgres) must not
 * be reached through a directory only this user may enter, such as without-peers' link farm.
 */
export function peerPath(bin: string): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...onPath, ...EXTRA_DIRS]) {
    const file = join(dir, bin);
    try {
      accessSync(file, constants.X_OK);
    } catch {
      continue;
    }
    // Tests spawn peers by name: a daemon found in /usr/sbin outside this user's PATH must be spawnable too.
    if (!onPath.includes(dir)) process.env.PATH = [...onPath, dir].join(delimiter);
    return realpathSync(file);
  }
  return undefined;
}

export function peersRequired(): boolean {
  return process.env.POLYPROV_REQUIRE_PEERS === '1';
}

const said = new Set<string>();

/**
 * A peer is missing: under POLYPROV_REQUIRE_PEERS=1 this throws (the test file fails to load, so the
 * run fails); otherwise it prints `skipped: WHAT not installed (apt-get install PKG)` once per process.
 */
export function missingPeer(what: string, pkg: string, state = 'not installed'): void {
  const line = `${what} ${state} (apt-get install ${pkg})`;
  if (peersRequired()) throw new Error(`POLYPROV_REQUIRE_PEERS=1 and ${line}`);
  if (said.has(line)) return;
  said.add(line);
  process.stderr.write(`skipped: ${line}\n`);
}

/** True when the peer program is present; when absent, says so (or fails under POLYPROV_REQUIRE_PEERS=1). */
export function requirePeer(bin: string, pkg = PEER_PACKAGES[bin] ?? bin): boolean {
  if (peerPath(bin)) return true;
  missingPeer(bin, pkg);
  return false;
}

/** True when every one of the programs is present (each missing one gets its line). */
export function requirePeers(...bins: string[]): boolean {
  return bins.map((b) => requirePeer(b)).every(Boolean);
}

export const TEST_PG_URL = process.env.POLYPROV_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why nothing answers at `url` (connect, then SELECT 1, within 3 s), or undefined when PostgreSQL does. */
export async function pgUnreachable(url = TEST_PG_URL): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * True when a PostgreSQL server answers at `url` (and, with `binaries`, those server programs such as
 * initdb and pg_ctl are installed, for tests that start a private cluster).
 */
export async function requirePostgres(url = TEST_PG_URL, binaries: string[] = []): Promise<boolean> {
  if (!binaries.every((b) => requirePeer(b, 'postgresql'))) return false;
  const why = await pgUnreachable(url);
  if (why) missingPeer(`PostgreSQL at ${url.replace(/\/\/[^@/]*@/, '//')}`, 'postgresql', `not reachable: ${why}`);
  return !why;
}
