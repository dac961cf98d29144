// mulberry32, the one seeded generator: `notify --seed` paces check-syncs with it so a bulk run
// replays exactly, and the tests' PRNG (test/support/prng.ts) draws from it. Not for secrets
// (node:crypto is). Ground floor: imports nothing.

/** The 32-bit output stream of mulberry32 for `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Draws in [0, 1), reproducible for a seed. */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}
