// Prometheus counters kept in memory, rendered on the admin listener's /metrics.
// Label sets are few (transport × status), so a map of strings is enough. With a managed fleet,
// its managed file's own counters too (ManagedFiles.stats: renders, store reads, generation), so
// the bench proves a warm cache renders nothing and reads no store (issue 14 Scale).
// Under `serve --workers N` (issue 16) each worker sends its snapshot (plain JSON) to the primary,
// and the one admin listener renders the sum of every worker's (mergeSnapshots, renderSnapshot):
// counters and the active gauge are summed, the fleet generation is the highest any worker serves.
import type { ManagedFiles } from '../fleet/types.ts';

/** What a worker sends to the primary: every family by label set, as plain JSON. */
export interface MetricsSnapshot {
  requests: Record<string, number>;
  bytes: Record<string, number>;
  refusals: Record<string, number>;
  garbage: Record<string, number>;
  active: number;
  fleet?: { renders: number; storeReads: number; generation: number };
}

export class Metrics {
  /** Per transport: bytes sent and requests by status; label strings are built only for /metrics (no string per request). */
  private readonly byTransport = new Map<string, { bytes: number; statuses: Map<string, number> }>();
  private readonly refusals = new Map<string, number>();
  private readonly garbageByTransport = new Map<string, number>();
  active = 0;
  /** The fleet whose counters /metrics shows; absent without a fleet. */
  fleet?: Pick<ManagedFiles, 'stats'>;

  request(transport: string, status: string, bytes: number): void {
    let t = this.byTransport.get(transport);
    if (t === undefined) this.byTransport.set(transport, (t = { bytes: 0, statuses: new Map() }));
    t.bytes += bytes;
    t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
  }

  refusal(transport: string, code: string): void {
    const k = `transport="${transport}",code="${code}"`;
    this.refusals.set(k, (this.refusals.get(k) ?? 0) + 1);
  }

  /** Wire-level garbage that never became a request (malformed HTTP head, junk UDP datagram). */
  garbage(transport: string): void {
    const k = `transport="${transport}"`;
    this.garbageByTransport.set(k, (this.garbageByTransport.get(k) ?? 0) + 1);
  }

  /** This process's counters as plain JSON (what a worker sends the primary). */
  snapshot(): MetricsSnapshot {
    const f = this.fleet?.stats;
    const requests: Record<string, number> = {};
    const bytes: Record<string, number> = {};
    for (const [transport, t] of this.byTransport) {
      bytes[`transport="${transport}"`] = t.bytes;
      for (const [status, n] of t.statuses) requests[`transport="${transport}",status="${status}"`] = n;
    }
    return {
      requests,
      bytes,
      refusals: Object.fromEntries(this.refusals),
      garbage: Object.fromEntries(this.garbageByTransport),
      active: this.active,
      ...(f ? { fleet: { renders: f.renders, storeReads: f.storeReads, generation: f.generation } } : {}),
    };
  }

  render(): string {
    return renderSnapshot(this.snapshot());
  }
}

/** The sum of several workers' snapshots (the fleet generation: the highest). */
export function mergeSnapshots(list: readonly (MetricsSnapshot | undefined)[]): MetricsSnapshot {
  const out: MetricsSnapshot = { requests: {}, bytes: {}, refusals: {}, garbage: {}, active: 0 };
  const add = (to: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) to[k] = (to[k] ?? 0) + v;
  };
  for (const s of list) {
    if (!s) continue;
    add(out.requests, s.requests);
    add(out.bytes, s.bytes);
    add(out.refusals, s.refusals);
    add(out.garbage, s.garbage);
    out.active += s.active;
    if (s.fleet) {
      const f = (out.fleet ??= { renders: 0, storeReads: 0, generation: 0 });
      f.renders += s.fleet.renders;
      f.storeReads += s.fleet.storeReads;
      f.generation = Math.max(f.generation, s.fleet.generation);
    }
  }
  return out;
}

/** The Prometheus text of a snapshot (one process's, or the merge of every worker's). */
export function renderSnapshot(s: MetricsSnapshot): string {
  const lines: string[] = [];
  const family = (name: string, help: string, type: string, m: Record<string, number>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [k, v] of Object.entries(m)) lines.push(`${name}{${k}} ${v}`);
  };
  family('polyprov_requests_total', 'Boot-server requests by transport and final status.', 'counter', s.requests);
  family('polyprov_bytes_sent_total', 'Bytes sent to phones by transport.', 'counter', s.bytes);
  family('polyprov_refusals_total', 'Refused requests by transport and error code.', 'counter', s.refusals);
  family('polyprov_wire_garbage_total', 'Wire-level garbage that never became a request, by transport.', 'counter', s.garbage);
  lines.push('# HELP polyprov_active_transfers Transfers in progress.', '# TYPE polyprov_active_transfers gauge', `polyprov_active_transfers ${s.active}`);
  const f = s.fleet;
  if (f) {
    lines.push('# HELP polyprov_fleet_renders_total Managed files rendered (a warm cache renders none).', '# TYPE polyprov_fleet_renders_total counter', `polyprov_fleet_renders_total ${f.renders}`);
    lines.push('# HELP polyprov_fleet_store_reads_total Store reads made by the fleet snapshot (a warm cache makes none).', '# TYPE polyprov_fleet_store_reads_total counter', `polyprov_fleet_store_reads_total ${f.storeReads}`);
    lines.push("# HELP polyprov_fleet_generation The fleet's store generation the server serves.", '# TYPE polyprov_fleet_generation gauge', `polyprov_fleet_generation ${f.generation}`);
  }
  return lines.join('\n') + '\n';
}
