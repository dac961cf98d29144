// The boot storm's report: latency percentiles per request, per request kind and per boot,
// status and error counts, image decisions, and the server's and load generator's CPU and memory;
// as JSON (StormReport) and as the Markdown table written under bench/results/.
import type { BootRecord } from './boot.ts';
import type { FtpsMode } from './server-address.ts';

export type StormTransport = 'http' | 'https' | 'tftp' | 'ftp' | 'ftps';

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StormReport {
  when: string;
  transport: StormTransport;
  /** FTPS only. */
  ftpsMode?: FtpsMode;
  /** HTTP with a connection per phone: the raw client or node:http (StormOptions.httpClient). */
  httpClient?: 'raw' | 'node';
  phones: number;
  concurrency: number;
  stages: 'full' | 'application';
  imageSizeMb: number;
  uploadLogs: boolean;
  ownAddresses: boolean;
  server: string;
  serverStartedByBench: boolean;
  /** loadAvg1: the host's 1-minute load average when the storm started and ended (other work on a shared machine shows there). */
  host: { cpus: number; node: string; loadAvg1?: [number, number] };
  totalSeconds: number;
  bootsPerSecond: number;
  requestsPerSecond: number;
  requests: Percentiles;
  requestsByKind: Record<string, Percentiles>;
  boots: Percentiles;
  statusCounts: Record<string, number>;
  errors: Record<string, number>;
  /** The first message seen for each error kind. */
  errorSamples: Record<string, string>;
  failedBoots: number;
  imageDecisions: Record<string, number>;
  serverCpuSeconds?: number;
  serverPeakRssMb?: number;
  clientCpuSeconds: number;
  clientPeakRssMb: number;
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const at = (q: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of a) sum += v;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { count: n, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(a[n - 1]!), mean: r(sum / n) };
}

/** Classifies a request for the per-kind percentiles. */
export function requestKind(r: BootRecord['requests'][number]): string {
  if (r.hangUp) return 'image-header';
  if (r.method === 'PUT') return 'upload';
  if (r.status === 'not-found') return 'get-404';
  return 'get';
}

export function stormMarkdown(r: StormReport): string {
  const row = (name: string, p: Percentiles) => `| ${name} | ${p.count} | ${p.p50} | ${p.p95} | ${p.p99} | ${p.max} |`;
  const lines = [
    `# Boot storm: ${r.phones} phones over ${r.transport.toUpperCase()}${r.ftpsMode ? ` (${r.ftpsMode})` : ''}`,
    '',
    `${r.when} · ${r.host.cpus} CPUs · Node ${r.host.node}${r.host.loadAvg1 ? ` · load average (1 min) ${r.host.loadAvg1[0]} at start, ${r.host.loadAvg1[1]} at end` : ''} · server: ${r.server} · concurrency ${r.concurrency} · stages: ${r.stages} · image ${r.imageSizeMb} MB (unchanged: header read, then hang-up) · log uploads ${r.uploadLogs ? 'on' : 'off'}${r.ownAddresses ? ' · one loopback source address per phone' : ''}${r.httpClient ? ` · phone HTTP client: ${r.httpClient === 'raw' ? 'raw kept-alive connection (http-raw.ts)' : 'node:http keep-alive agent'}` : ''}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| total time | ${r.totalSeconds} s |`,
    `| boots per second | ${r.bootsPerSecond} |`,
    `| requests per second | ${r.requestsPerSecond} |`,
    `| failed boots | ${r.failedBoots} |`,
    `| errors | ${Object.keys(r.errors).length ? Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none'} |`,
    ...Object.entries(r.errorSamples).map(([k, v]) => `| first ${k} | ${v.replace(/\|/g, '\\|')} |`),
    `| server CPU | ${r.serverCpuSeconds ?? 'n/a'} s |`,
    `| server peak RSS (VmHWM) | ${r.serverPeakRssMb ?? 'n/a'} MB |`,
    `| load generator CPU / peak RSS | ${r.clientCpuSeconds} s / ${r.clientPeakRssMb} MB |`,
    `| image decisions | ${Object.entries(r.imageDecisions).map(([k, v]) => `${k}: ${v}`).join(', ')} |`,
    '',
    '| latency (ms) | count | p50 | p95 | p99 | max |',
    '|---|---|---|---|---|---|',
    row('per boot', r.boots),
    row('per request', r.requests),
    ...Object.entries(r.requestsByKind).map(([k, p]) => row(`request: ${k}`, p)),
    '',
  ];
  return lines.join('\n');
}
