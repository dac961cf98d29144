import { expect, test } from 'vitest';
import { once } from './once.ts';

test('once: the work runs on the first call only (a reader that releases twice frees its share once)', () => {
  let n = 0;
  const release = once(() => n++);
  release();
  release();
  release();
  expect(n).toBe(1);
});
