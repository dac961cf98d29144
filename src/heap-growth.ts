// serve's garbage-collector setting (ServerOptions.heapGrowthPercent), applied by startServer.
import { setFlagsFromString } from 'node:v8';

/**
 * The heap's growth between full collections (issue 14 Scale: server RSS ≤ 300 MB in the
 * 10,000-phone storm). A boot storm promotes every keep-alive connection's objects (they outlive
 * two scavenges) and they die in the old generation; with V8's own growth (up to 4× what
 * survived on a machine with this much memory) the old generation reached 180 MB, 130 MB of it
 * garbage, before a full collection. At 50% the managed storm peaked at 207-220 MB instead of
 * 272-280 MB, at the same server CPU per boot within the noise (bench/managed-storm.ts). A live
 * V8 reads this flag at every collection, so it can be set after start; `heapGrowthPercent` 0
 * leaves V8's choice.
 */
export function tuneHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
