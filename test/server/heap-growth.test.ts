// serve's heap growth (src/heap-growth.ts, ServerOptions.heapGrowthPercent; issue 14 Scale: server
// RSS). Set after start, V8 reads it at every full collection: a child holding 40 MB live and
// allocating garbage that gets promoted (as a boot storm's keep-alive connections do) keeps its
// heap near the live size with 20%, and lets it grow far past it with V8's own choice.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/heap-growth.ts', import.meta.url));

function peakHeapMb(percent: number): number {
  const script = `
    import { tuneHeapGrowth } from ${JSON.stringify(MODULE)};
    tuneHeapGrowth(${percent});
    const live = Array.from({ length: 40 }, () => new Array(128 * 1024).fill(0).map((_, i) => ({ i })).slice(0, 32 * 1024));
    let peak = 0;
    // Garbage that survives two scavenges (held by a ring of 64 batches): promoted, then dropped.
    const ring = new Array(64);
    for (let round = 0; round < 1200; round++) {
      ring[round % 64] = Array.from({ length: 2000 }, (_, i) => ({ round, i, s: 'x'.repeat(8) + i }));
      if (round % 20 === 0) peak = Math.max(peak, process.memoryUsage().heapTotal);
    }
    console.log(JSON.stringify({ peak: peak / 1048576, live: live.length }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim()).peak as number;
}

describe('heapGrowthPercent', () => {
  it('bounds the heap between full collections: 20% keeps it well below V8\'s own growth', () => {
    const tight = peakHeapMb(20);
    const own = peakHeapMb(0);
    expect(tight).toBeLessThan(own * 0.8);
  }, 120_000);
});
