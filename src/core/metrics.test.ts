// The admin /metrics text (src/core/metrics.ts): the managed file's counters appear only with a
// fleet, read live from its stats, so the bench can show a warm cache renders nothing and reads no
// store (issue 14 Scale).
import { describe, expect, test } from 'vitest';
import { Metrics } from './metrics.ts';

describe('issue 14 Scale: the fleet counters on /metrics', () => {
  test('without a fleet there is no polyprov_fleet_* line', () => {
    expect(new Metrics().render()).not.toContain('polyprov_fleet_');
  });

  test('with a fleet, renders, store reads and the generation are read live from its stats', () => {
    const m = new Metrics();
    const stats = { renders: 3, storeReads: 1, generation: 7 };
    m.fleet = { stats };
    expect(m.render()).toMatch(/^polyprov_fleet_renders_total 3$/m);
    stats.renders = 10;
    stats.storeReads = 2;
    const text = m.render();
    expect(text).toMatch(/^polyprov_fleet_renders_total 10$/m);
    expect(text).toMatch(/^polyprov_fleet_store_reads_total 2$/m);
    expect(text).toMatch(/^polyprov_fleet_generation 7$/m);
    expect(text).toContain('# TYPE polyprov_fleet_renders_total counter');
  });
});
