import { expect, test } from 'vitest';
import { mulberry32, seededRandom } from './prng.ts';

test('notify --seed: the same seed replays the same draws (mulberry32(42) starts 0.6011…); another seed differs', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  expect(seededRandom(42)()).toBe(0.6011037519201636);
  expect(seededRandom(43)()).not.toBe(0.6011037519201636);
  expect(mulberry32(42)()).toBe(Math.round(0.6011037519201636 * 4294967296));
});
