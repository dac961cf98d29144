// Prometheus counters kept in memory, rendered on the admin listener's /metrics.
// Label sets are few (transport × status), so a map of strings is enough. With a managed fleet,
// its managed file's own counters too (ManagedFiles.stats: renders, store reads, generation), so
// the bench proves a warm cache renders nothing and reads no store (issue 14 Scale).
import type { ManagedFiles } from '../fleet/types.ts';

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly bytes = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  private readonly garbageByTransport = new Map<string, number>();
  active = 0;
  /** The fleet whose counters /metrics shows; absent without a fleet. */
  fleet?: Pick<ManagedFiles, 'stats'>;

  request(transport: string, status: string, bytes: number): void {
    const k = `transport="${transport}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    const b = `transport="${transport}"`;
    this.bytes.set(b, (this.bytes.get(b) ?? 0) + bytes);
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

  render(): string {
    const lines: string[] = [];
    const family = (name: string, help: string, type: string, m: Map<string, number>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [k, v] of m) lines.push(`${name}{${k}} ${v}`);
    };
    family('polyprov_requests_total', 'Boot-server requests by transport and final status.', 'counter', this.requests);
    family('polyprov_bytes_sent_total', 'Bytes sent to phones by transport.', 'counter', this.bytes);
    family('polyprov_refusals_total', 'Refused requests by transport and error code.', 'counter', this.refusals);
    family('polyprov_wire_garbage_total', 'Wire-level garbage that never became a request, by transport.', 'counter', this.garbageByTransport);
    lines.push('# HELP polyprov_active_transfers Transfers in progress.', '# TYPE polyprov_active_transfers gauge', `polyprov_active_transfers ${this.active}`);
    const f = this.fleet?.stats;
    if (f) {
      lines.push('# HELP polyprov_fleet_renders_total Managed files rendered (a warm cache renders none).', '# TYPE polyprov_fleet_renders_total counter', `polyprov_fleet_renders_total ${f.renders}`);
      lines.push('# HELP polyprov_fleet_store_reads_total Store reads made by the fleet snapshot (a warm cache makes none).', '# TYPE polyprov_fleet_store_reads_total counter', `polyprov_fleet_store_reads_total ${f.storeReads}`);
      lines.push("# HELP polyprov_fleet_generation The fleet's store generation the server serves.", '# TYPE polyprov_fleet_generation gauge', `polyprov_fleet_generation ${f.generation}`);
    }
    return lines.join('\n') + '\n';
  }
}
