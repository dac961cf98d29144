import { expect, test } from 'vitest';
import { SourceRateLimiter } from './rate-limit.ts';

test('token bucket per source: burst, then refusals, refilled by time; first refusal flagged once', () => {
  let now = 0;
  const rl = new SourceRateLimiter(2, 3, 100, () => now);
  const seq = Array.from({ length: 5 }, () => rl.take('192.0.2.1'));
  expect(seq.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
  expect(seq.map((d) => d.firstRefusal)).toEqual([false, false, false, true, false]);
  expect(rl.take('192.0.2.2').allowed).toBe(true); // other sources are unaffected
  now += 500; // 2/s → one token
  expect(rl.take('192.0.2.1').allowed).toBe(true);
  expect(rl.take('192.0.2.1')).toEqual({ allowed: false, firstRefusal: true });
});

test('the table is capped (spoofed sources cannot grow it without bound)', () => {
  const rl = new SourceRateLimiter(1, 1, 50, () => 0);
  for (let i = 0; i < 1000; i++) rl.take(`10.0.${i >> 8}.${i & 255}`);
  expect(rl.size).toBe(50);
});
