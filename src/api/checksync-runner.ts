// Runs a check-sync job in the server (issue 15 "Resources": `POST /api/v1/checksync`): the same
// SIP NOTIFY Event: check-sync as `polyprov notify` (src/sip: target resolution from the
// inventory and the phone's reg.1 line, Digest answers, paced so a fleet run is no boot storm),
// each phone's status written to the job as it goes (sent / failed, with the SIP result), then
// the job watched until every phone that accepted came back for its configuration (returned)
// or the wait is over. The core keeps the job (src/core/admin-checksync.ts); this face sends.
import { existsSync, statSync } from 'node:fs';
import { TreeFiles } from '../config/tree-source.ts';
import type { AdminService } from '../core/admin.ts';
import type { CheckSyncJob, CheckSyncTarget, Mac } from '../domain.ts';
import { DEFAULT_JITTER_MS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_RATE_PER_SEC, runPaced } from '../sip/bulk.ts';
import { adminInventory } from '../sip/inventory.ts';
import { CheckSyncSender } from '../sip/notify.ts';
import { resolveTargets, type TargetSpec } from '../sip/targets.ts';

export interface CheckSyncRunOptions {
  /** NOTIFYs started per second (the notify command's default: 10). */
  ratePerSec?: number;
  jitterMs?: number;
  maxInFlight?: number;
  /** RFC 3261 T1 (500 ms); a phone that does not answer is given up after 64·T1. */
  t1Ms?: number;
  /** How long to wait for phones to come back after their NOTIFY (60 s). */
  returnTimeoutMs?: number;
  /** How often the audit is read for returns (500 ms). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Jobs running in this process, so a server stop can wait for them (and tests can). */
const running = new Map<string, Promise<void>>();

/** Starts the job in the background; the promise is kept in `running` until it ends. */
export function startCheckSync(admin: AdminService, job: CheckSyncJob, root: string, o: CheckSyncRunOptions = {}): Promise<void> {
  const p = runCheckSync(admin, job, root, o)
    .catch(async (err: unknown) => {
      // Whatever was still pending failed with the job; nothing thrown escapes a background run.
      const now = await admin.checksync.get(job.id).catch(() => undefined);
      const left = (now?.targets ?? job.targets).filter((t) => t.status === 'pending').map((t) => ({ mac: t.mac, status: 'failed' as const, detail: `job failed: ${(err as Error).message}`, at: new Date() }));
      await admin.checksync.update(job.id, left).catch(() => undefined);
    })
    .finally(() => running.delete(job.id));
  running.set(job.id, p);
  return p;
}

/** The job's run in this process, if it is still running. */
export function runningJob(id: string): Promise<void> | undefined {
  return running.get(id);
}

export async function runCheckSync(admin: AdminService, job: CheckSyncJob, root: string, o: CheckSyncRunOptions = {}): Promise<void> {
  const tree = existsSync(root) && statSync(root).isDirectory() ? new TreeFiles(root) : undefined;
  const inventory = adminInventory(admin.inventory, tree);
  const specs: TargetSpec[] = job.targets.map((t) => ({ kind: 'mac', text: t.mac, mac: t.mac }));
  const targets = await resolveTargets(specs, inventory, { transport: 'udp', push: false, pushScheme: 'https' });
  const t1Ms = o.t1Ms ?? 500;
  const sender = new CheckSyncSender({ timers: { t1Ms, t2Ms: 4000 } });
  try {
    await runPaced(
      targets,
      async (t) => {
        const mac = (t.mac ?? t.target) as Mac;
        let result: CheckSyncTarget;
        if (t.error) result = { mac, status: 'failed', detail: t.error, at: new Date() };
        else {
          const r = await sender.send({ uri: t.uri, host: t.host, port: t.port, transport: t.transport, ...(t.credentials ? { credentials: t.credentials } : {}) });
          const ok = typeof r.status === 'number' && r.status >= 200 && r.status < 300;
          const detail = typeof r.status === 'number' ? `${r.status}${r.reason ? ` ${r.reason}` : ''} from ${r.address}` : `${r.status}${r.error ? `: ${r.error}` : ''} (${r.address})`;
          result = { mac, status: ok ? 'sent' : 'failed', detail, at: new Date(r.sentAt ?? Date.now()) };
        }
        await admin.checksync.update(job.id, [result]);
      },
      { ratePerSec: o.ratePerSec ?? DEFAULT_RATE_PER_SEC, jitterMs: o.jitterMs ?? DEFAULT_JITTER_MS, maxInFlight: o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT },
    );
  } finally {
    await sender.close();
  }
  // Watch for the phones that accepted to come back (bounded: returnTimeoutMs).
  const deadline = Date.now() + (o.returnTimeoutMs ?? 60_000);
  const pollMs = o.pollMs ?? 500;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const now = await admin.checksync.refresh(job.id);
    if (!now || !now.targets.some((t) => t.status === 'sent')) return;
    await sleep(pollMs);
  }
}
