// The tests' one seeded PRNG (STYLE §7: seed any randomness, `seed = 42`): mulberry32 (the one in
// src/util/prng.ts), good enough for fuzz inputs, network loss models and file contents, so a
// failing run replays exactly. Tests never use Math.random for what they check.
import { mulberry32 } from '../../src/util/prng.ts';

/** Draws in [0, 1); `int(n)` in 0…n-1; `bytes(n)` a Buffer of the next n bytes of the stream. */
export interface Prng {
  (): number;
  int(n: number): number;
  bytes(n: number): Buffer;
}

export function prng(seed = 42): Prng {
  const next32 = mulberry32(seed);
  const draw = (() => next32() / 4294967296) as Prng;
  draw.int = (n) => Math.floor(draw() * n);
  draw.bytes = (n) => {
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) words[i] = next32();
    return Buffer.from(words.buffer, 0, n);
  };
  return draw;
}

/** `n` deterministic bytes (the PRNG's stream for `seed`), for files whose copies are compared. */
export function seededBytes(n: number, seed = 42): Buffer {
  return prng(seed).bytes(n);
}
