/**
 * mulberry32: a small, fast 32-bit seeded PRNG. Returns uniform numbers in [0, 1).
 * Every random choice in `src/data` goes through it, so results depend only on the seed.
 *
 * @example
 * const rand = mulberry32(42);
 * rand(); // 0.6011037519201636, the same on every run
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Combines a seed with further integers (epoch, class, index) into a new 32-bit seed. */
export function mixSeed(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Fisher–Yates shuffle in place with `rand`; returns the array. */
export function shuffleInPlace<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A random 32-bit seed for when the user gives none. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}
