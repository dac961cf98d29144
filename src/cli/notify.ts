// `polyprov notify TARGET…`: make phones re-read their configuration now (issue 6). Sends the
// check-sync SIP NOTIFY of the white paper ("Reconfiguring the Phone Remotely"), or with
// --push the push server's Action:UpdateConfig (facts §3.5), paced so a fleet run cannot start
// a boot storm, then watches the inventory for the phones coming back.
//
// Output: a summary table, or with --json one JSON object per line and per target (JSON lines,
// so a long fleet run can be piped into `jq` as it goes):
//   {"target":"0004f2000010","address":"10.0.0.5:5060","status":200,"rtt_ms":3.1,"confirmed":true,…}
// status is the final SIP/HTTP status, or "timeout" / "error"; confirmed is null for targets
// not in the inventory (or with --confirm-timeout 0). Exit 0 when every target answered 2xx.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { TreeFiles } from '../config/tree-source.ts';
import { TenantViews } from '../core/tenant-tree.ts';
import { DEFAULT_TENANT, type Mac } from '../domain.ts';
import type { ManagedFiles } from '../fleet/types.ts';
import { addStateOptions, loadServerOptions, parseHostPort } from '../options.ts';
import { openAdmin, type AdminSession } from '../core/open-core.ts';
import { DEFAULT_JITTER_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_RATE_PER_SEC, parseRate, runPaced } from '../sip/bulk.ts';
import { seededRandom } from '../util/prng.ts';
import { ConfirmationPoller } from '../sip/confirm.ts';
import { adminInventory } from '../sip/inventory.ts';
import { CheckSyncSender } from '../sip/notify.ts';
import { sendPush } from '../sip/push.ts';
import { parseTarget, resolveTargets, type Inventory, type ResolvedTarget, type TargetSpec } from '../sip/targets.ts';
import type { SipTransport } from '../sip/transport.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { usage } from './state-store.ts';
import { textTable } from './text-table.ts';

interface NotifyFlags {
  transport: string;
  proxy?: string;
  user?: string;
  passwordStdin?: boolean;
  rate: string;
  jitter: string;
  t1: string;
  timeout?: string;
  confirmTimeout: string;
  maxInFlight: string;
  push?: boolean;
  pushScheme: string;
  insecure?: boolean;
  ca?: string;
  json?: boolean;
  progress?: boolean;
  seed?: string;
  root?: string;
  data?: string;
  config?: string;
}

/** One line of `--json` output. */
export interface NotifyReport {
  target: string;
  mac: string | null;
  address: string | null;
  status: number | 'timeout' | 'error';
  reason: string | null;
  rtt_ms: number | null;
  confirmed: boolean | null;
  transmissions?: number;
  challenges: number;
  error: string | null;
}

/** Field order of a --json line: the issue's five first. */
const REPORT_FIELDS: (keyof NotifyReport)[] = ['target', 'address', 'status', 'rtt_ms', 'confirmed', 'mac', 'reason', 'error', 'transmissions', 'challenges'];

const DEFAULT_CONFIRM_TIMEOUT_S = 15;

export const register: RegisterCommand = (program: Command, setExit) => {
  const cmd = program
    .command('notify')
    .description('make phones re-read their configuration now: SIP NOTIFY Event: check-sync (or the push server with --push), paced, with confirmation from the inventory')
    .argument('<targets...>', 'sip:user@host:port;transport=tcp, HOST[:PORT], a MAC the inventory knows, or "all"')
    .option('--transport <t>', 'udp, tcp or tls (a sip: URI\'s ;transport= or sips: wins)', 'udp')
    .option('--proxy <host:port>', 'send through this outbound proxy (loose Route)')
    .option('--user <user>', 'Digest user for 401/407 challenges (default: the phone\'s reg.1.auth.userId)')
    .option('--password-stdin', 'read the Digest password from the first line of stdin')
    .option('--rate <n/s>', `NOTIFYs started per second (also 600/min); the default keeps a fleet run from becoming a boot storm`, `${DEFAULT_RATE_PER_SEC}/s`)
    .option('--jitter <ms>', 'random extra gap between starts, 0..ms', String(DEFAULT_JITTER_MS))
    .option('--t1 <ms>', 'RFC 3261 T1 (UDP retransmission starts at T1; timer F = 64·T1)', '500')
    .option('--timeout <ms>', 'give up on a target after this long (default: timer F = 64·T1)')
    .option('--confirm-timeout <s>', 'wait this long for inventory phones to come back for their configuration (0: do not wait)', String(DEFAULT_CONFIRM_TIMEOUT_S))
    .option('--max-in-flight <n>', 'targets in progress at once', String(DEFAULT_MAX_IN_FLIGHT))
    .option('--push', 'POST Action:UpdateConfig to the phone push server (https://PHONE/push) instead of a SIP NOTIFY')
    .option('--push-scheme <scheme>', 'http or https for --push', 'https')
    .option('--ca <file>', 'TLS/HTTPS: CA bundle (PEM) to verify the phone certificates against')
    .option('--insecure', 'TLS/HTTPS: do not verify the phone certificate')
    .option('--json', 'one JSON object per target and line')
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--seed <n>', 'seed the jitter (reproducible pacing)')
    .option('--root <dir>', 'provisioning tree, for the effective configuration of inventory phones (default: the server options root)');
  addStateOptions(cmd).action(async (targets: string[], flags: NotifyFlags) => {
    setExit(await runNotify(targets, flags));
  });
};

function intFlag(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw usage(`${name} "${v}" must be a whole number from ${min} to ${max}`);
  return n;
}

async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '');
}

export async function runNotify(targetArgs: string[], flags: NotifyFlags): Promise<number> {
  // --- validate everything before sending anything ---
  const specs: TargetSpec[] = [];
  for (const a of targetArgs) {
    const t = parseTarget(a);
    if ('error' in t) throw usage(t.error, 'Targets: sip:1001@10.0.0.5:5060;transport=tcp, 10.0.0.5[:5060], 0004f2000001, or all.');
    specs.push(t);
  }
  const transport = flags.transport.toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw usage(`--transport "${flags.transport}" must be udp, tcp or tls`);
  const rate = parseRate(flags.rate);
  if (rate === undefined) throw usage(`--rate "${flags.rate}" is not a rate; write 10/s or 600/min`);
  const jitterMs = intFlag(flags.jitter, '--jitter', 0, 60_000);
  const t1Ms = intFlag(flags.t1, '--t1', 1, 10_000);
  const timeoutMs = flags.timeout === undefined ? undefined : intFlag(flags.timeout, '--timeout', 1, 600_000);
  const confirmS = Number(flags.confirmTimeout);
  if (!Number.isFinite(confirmS) || confirmS < 0 || confirmS > 3600) throw usage(`--confirm-timeout "${flags.confirmTimeout}" must be seconds from 0 to 3600`);
  const maxInFlight = intFlag(flags.maxInFlight, '--max-in-flight', 1, 10_000);
  const pushScheme = flags.pushScheme.toLowerCase();
  if (pushScheme !== 'http' && pushScheme !== 'https') throw usage(`--push-scheme "${flags.pushScheme}" must be http or https`);
  const proxy = flags.proxy ? parseHostPort(flags.proxy, '--proxy') : undefined;
  if (flags.passwordStdin && !flags.user) throw usage('--password-stdin needs --user');
  if (flags.user && !flags.passwordStdin) throw usage('--user needs --password-stdin (passwords never go on the command line)');
  let ca: Buffer | undefined;
  if (flags.ca !== undefined) {
    try {
      ca = readFileSync(flags.ca);
    } catch (err) {
      throw usage(`--ca ${flags.ca}: ${(err as Error).message}`);
    }
  }
  const credentials = flags.user ? { user: flags.user, password: await readPassword() } : undefined;

  // --- the inventory, only when a target needs it ---
  const needsInventory = specs.some((s) => s.kind === 'mac' || s.kind === 'all');
  let state: AdminSession | undefined;
  let inventory: Inventory | undefined;
  if (needsInventory) {
    const opts = loadServerOptions({ data: flags.data, config: flags.config, ...(flags.root ? { root: flags.root } : {}) });
    state = await openAdmin(opts);
    const root = opts.root;
    const tree = existsSync(root) && statSync(root).isDirectory() ? new TreeFiles(root) : undefined;
    if (tree) await state.admin.fleet.open(); // managed views need the fleet (read on first use: issue 16 leftover)
    if (!tree) process.stderr.write(`polyprov notify: no provisioning tree at ${root}; inventory phones get no reg.1 line from their configuration (give --root)\n`);
    inventory = adminInventory(state.admin.inventory, tree && managedViews(tree, state.admin));
  }

  try {
    const targets = await resolveTargets(specs, inventory, { transport: transport as SipTransport, credentials, push: flags.push === true, pushScheme });
    warnSharedUsers(targets);
    if (targets.length === 0) {
      process.stderr.write('polyprov notify: no targets (the inventory is empty)\n');
      return EXIT.problem;
    }
    const sender = new CheckSyncSender({ timers: { t1Ms, t2Ms: 4000, ...(timeoutMs ? { timeoutMs } : {}) }, ...(proxy ? { proxy } : {}), tlsRejectUnauthorized: !flags.insecure, ...(ca ? { tlsCa: ca } : {}) });
    const poller = inventory ? new ConfirmationPoller(inventory) : undefined;
    const showBar = !flags.json && (flags.progress === true || process.stderr.isTTY === true);
    const bar = showBar ? new cliProgress.SingleBar({ stream: process.stderr, noTTYOutput: flags.progress === true, notTTYSchedule: 1000, format: 'check-sync [{bar}] {value}/{total} {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(targets.length, 0);
    const confirmations: Promise<void>[] = [];
    const reports: NotifyReport[] = [];
    try {
      await runPaced(
        targets,
        async (t: ResolvedTarget, i: number) => {
          const { report, sentAt } = await notifyOne(t, sender, { push: flags.push === true, timeoutMs: timeoutMs ?? 64 * t1Ms, insecure: flags.insecure === true, ...(ca ? { ca } : {}) });
          reports[i] = report;
          const print = () => {
            if (flags.json) process.stdout.write(`${JSON.stringify(report, REPORT_FIELDS)}\n`);
          };
          const ok = typeof report.status === 'number' && report.status >= 200 && report.status < 300;
          // confirmed: null for targets outside the inventory or when not asked to wait;
          // false for an inventory phone that refused or never answered.
          if (t.mac && inventory && !t.error) {
            if (!ok) report.confirmed = false;
            else if (poller && confirmS > 0) {
              confirmations.push(
                poller.confirm(t.mac, new Date(sentAt), confirmS * 1000).then((c) => {
                  report.confirmed = c;
                  print();
                }),
              );
              return;
            }
          }
          print();
        },
        { ratePerSec: rate, jitterMs, maxInFlight, onDone: () => bar?.increment(), ...(flags.seed !== undefined ? { random: seededRandom(Number(flags.seed)) } : {}) },
      );
      await Promise.all(confirmations);
    } finally {
      bar?.stop();
      poller?.stop();
      await sender.close();
    }
    if (!flags.json) process.stdout.write(summary(reports));
    return reports.every((r) => typeof r.status === 'number' && r.status >= 200 && r.status < 300) && reports.filter(Boolean).length === targets.length ? EXIT.ok : EXIT.problem;
  } finally {
    await state?.close();
  }
}

/**
 * A phone's tree as it is served (issue 14): with a managed fleet, its tenant's view, where
 * managed/<MAC>.cfg holds the line polyprov renders for it; without one (or without its key), the tree.
 */
function managedViews(tree: TreeFiles, admin: AdminSession['admin']): TreeFiles | ((mac: Mac) => TreeFiles) {
  let files: ManagedFiles;
  try {
    files = admin.fleet.files;
  } catch {
    return tree;
  }
  const views = new TenantViews(tree, files);
  return (mac: Mac) => views.of(files.tenantOf(mac) ?? DEFAULT_TENANT).tree;
}

async function notifyOne(t: ResolvedTarget, sender: CheckSyncSender, o: { push: boolean; timeoutMs: number; insecure: boolean; ca?: Buffer }): Promise<{ report: NotifyReport; sentAt: number }> {
  const base = { target: t.target, mac: t.mac ?? null, confirmed: null, reason: null, error: null, rtt_ms: null, challenges: 0 };
  if (t.error) return { report: { ...base, address: null, status: 'error', error: t.error }, sentAt: Date.now() };
  if (o.push) {
    if (!t.pushUrl) return { report: { ...base, address: null, status: 'error', error: 'no push URL for this target' }, sentAt: Date.now() };
    const r = await sendPush(t.pushUrl, { timeoutMs: o.timeoutMs, rejectUnauthorized: !o.insecure, ...(o.ca ? { ca: o.ca } : {}), ...(t.pushCredentials ? { credentials: t.pushCredentials } : {}) });
    return { report: { ...base, address: r.address, status: r.status, reason: r.reason ?? null, rtt_ms: r.rttMs ?? null, challenges: r.challenges, error: r.error ?? null }, sentAt: r.sentAt ?? Date.now() };
  }
  const r = await sender.send({ uri: t.uri, host: t.host, port: t.port, transport: t.transport, ...(t.credentials ? { credentials: t.credentials } : {}) });
  return {
    report: { ...base, address: r.address, status: r.status, reason: r.reason ?? null, rtt_ms: r.rttMs ?? null, transmissions: r.transmissions, challenges: r.challenges, error: r.error ?? null },
    sentAt: r.sentAt ?? Date.now(),
  };
}

/**
 * Each NOTIFY goes to one phone's own address, so a user shared by several phones does not fan
 * out the way a PBX peer does; but a line user common to many phones usually means a site-wide
 * placeholder in a shared configuration file, which an administrator wants to hear about.
 */
function warnSharedUsers(targets: ResolvedTarget[]): void {
  const byUser = new Map<string, string[]>();
  for (const t of targets) {
    if (!t.mac || t.error || !t.uri.user) continue;
    byUser.set(t.uri.user, [...(byUser.get(t.uri.user) ?? []), t.mac]);
  }
  for (const [user, macs] of byUser) {
    if (macs.length > 1) {
      process.stderr.write(`polyprov notify: ${macs.length} phones (${macs.slice(0, 3).join(', ')}${macs.length > 3 ? ', …' : ''}) have SIP user "${user}"; each still gets its own NOTIFY at its own address, but check reg.1.address in their configuration\n`);
    }
  }
}

function summary(reports: NotifyReport[]): string {
  const rows = reports.map((r) => [
    r.target,
    r.address,
    typeof r.status === 'number' ? `${r.status}${r.reason ? ` ${r.reason}` : ''}` : r.status,
    r.rtt_ms === null ? null : `${r.rtt_ms} ms`,
    r.confirmed === null ? null : r.confirmed ? 'yes' : 'no',
    r.error,
  ]);
  const ok = reports.filter((r) => typeof r.status === 'number' && r.status >= 200 && r.status < 300).length;
  const timeouts = reports.filter((r) => r.status === 'timeout').length;
  const confirmed = reports.filter((r) => r.confirmed === true).length;
  return `${textTable(['TARGET', 'ADDRESS', 'STATUS', 'RTT', 'CAME BACK', 'NOTE'], rows)}${reports.length} target(s): ${ok} accepted, ${timeouts} timed out, ${reports.length - ok - timeouts} refused or failed; ${confirmed} came back for their configuration\n`;
}
