// The tree's stat cache lets go of entries no lookup can use (issue 14, Scale: the 10,000-phone
// boot storm's server peak RSS ≤ 300 MB; a storm looks up ~100,000 names, each live for 1 s).
import { describe, expect, it } from 'vitest';
import { NOT_CACHED, StatCache } from './tree-stat-cache.ts';

describe('StatCache (issue 14 Scale: boot storm memory)', () => {
  it('drops entries older than recheckMs as new ones are set, so a storm of names does not pile up', () => {
    const c = new StatCache<number>('/nonexistent-root', { recheckMs: 1000, watch: false });
    for (let i = 0; i < 5000; i++) c.set(`phone-${i}.cfg`, i, i); // 5 names a ms for 1 s
    // Only the names set within the last second are held; the rest were swept.
    expect(c.size).toBeLessThanOrEqual(1000);
    expect(c.get('phone-4999.cfg', 4999)).toBe(4999);
    expect(c.get('phone-4001.cfg', 4999)).toBe(4001);
    expect(c.get('phone-10.cfg', 4999)).toBe(NOT_CACHED);
    c.close();
  });

  it('a name set again moves to the back and stays while fresh; an invalidation sweeps the old generation', () => {
    const c = new StatCache<string>('/nonexistent-root', { recheckMs: 1000, watch: false });
    c.set('a', 'a1', 0);
    c.set('b', 'b1', 10);
    c.set('a', 'a2', 900);
    c.set('c', 'c1', 1500); // b (10) and nothing else is past its second
    expect(c.size).toBe(2);
    expect(c.get('a', 1500)).toBe('a2');
    c.invalidate();
    c.set('d', 'd1', 1501);
    expect(c.size).toBe(1);
    expect(c.get('d', 1501)).toBe('d1');
    c.close();
  });
});
