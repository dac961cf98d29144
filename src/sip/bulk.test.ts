import { describe, expect, test } from 'vitest';
import { parseRate, runPaced } from './bulk.ts';
import { prng } from '../../test/support/prng.ts';

describe('paced fan-out (boot-storm guard)', () => {
  test('start gaps never fall below 1000/rate, so no one-second window holds more than rate+1 starts; results keep order', async () => {
    const starts: number[] = [];
    const out = await runPaced(Array.from({ length: 60 }, (_, i) => i), async (x) => {
      starts.push(performance.now());
      await new Promise((r) => setTimeout(r, (x * 7) % 30));
      return x * 2;
    }, { ratePerSec: 200, jitterMs: 3, maxInFlight: 8, random: prng(42) });
    expect(out).toEqual(Array.from({ length: 60 }, (_, i) => i * 2));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1000 / 200);
  });

  test('maxInFlight bounds concurrent work', async () => {
    let inFlight = 0;
    let peak = 0;
    await runPaced(Array.from({ length: 30 }, (_, i) => i), async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
    }, { ratePerSec: 1000, jitterMs: 0, maxInFlight: 3 });
    expect(peak).toBeLessThanOrEqual(3);
  });

  test('--rate accepts 10, 10/s, 600/min; refuses 0 and words', () => {
    expect(parseRate('10')).toBe(10);
    expect(parseRate('10/s')).toBe(10);
    expect(parseRate('600/min')).toBe(10);
    expect(parseRate('0/s')).toBeUndefined();
    expect(parseRate('fast')).toBeUndefined();
  });
});
