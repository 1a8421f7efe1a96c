import { UsageError } from '../errors.js';

/**
 * Seeded randomness. Everything in abl-audit that draws at random (fixture sampling, shuffling, splits)
 * takes an {@link Rng} made from a recorded seed, never `Math.random`, so that a run can be repeated
 * exactly and a report can say which seed produced it.
 */

/**
 * A source of uniform numbers in [0, 1), like `Math.random`, but reproducible from its seed.
 * Values are multiples of 2⁻³² (32 random bits each).
 */
export type Rng = () => number;

const TWO_POW_32 = 4294967296;

/**
 * Makes a seeded {@link Rng} with the mulberry32 generator: one 32-bit word of state, a period of 2³²,
 * and good enough statistics for shuffling and sampling (it is not for cryptography).
 *
 * <span class="informal">The same seed gives the same sequence on every machine and Node version,
 * since it uses only 32-bit integer arithmetic.</span>
 *
 * @example
 * ```ts
 * const rng = mulberry32(42);
 * rng(); // always the same first value for seed 42
 * ```
 * @param seed - any integer; it is reduced to 32 bits (`seed >>> 0`), so 2³² + 1 and 1 are the same seed.
 * @returns a function giving the next number in [0, 1) on each call.
 * @throws UsageError when the seed is not an integer.
 * @see randomInt
 */
export function mulberry32(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new UsageError(`random seed must be an integer, got ${seed}`);
  }
  let state = seed >>> 0;
  return () => {
    // Weyl sequence step (odd increment, so every 32-bit state is visited), then an xorshift-multiply
    // mix of the state into the output; the state itself is never exposed.
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / TWO_POW_32;
  };
}

/**
 * A uniform integer in [0, n), without the slight bias of `Math.floor(rng() * n)`.
 *
 * <span class="informal">Draws whose 32-bit value falls in the incomplete last block of size n are
 * redrawn, so every result is equally likely.</span>
 *
 * @example
 * ```ts
 * randomInt(mulberry32(1), 6); // a die roll, 0-5
 * ```
 * @param rng - the source of randomness.
 * @param n - the number of possible results: an integer from 1 to 2³².
 * @returns an integer in [0, n).
 * @throws UsageError when n is out of range.
 * @see mulberry32
 */
export function randomInt(rng: Rng, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
    throw new UsageError(`randomInt needs an integer n in 1..2^32, got ${n}`);
  }
  const limit = TWO_POW_32 - (TWO_POW_32 % n);
  for (;;) {
    const u = Math.floor(rng() * TWO_POW_32);
    if (u < limit) return u % n;
  }
}

/**
 * Shuffles an array in place (Fisher–Yates), every order equally likely.
 *
 * <span class="informal">Walks from the end, swapping each item with a random one at or before
 * it.</span>
 *
 * @example
 * ```ts
 * shuffleInPlace([0, 1, 2, 3], mulberry32(7)); // the same order for seed 7 every time
 * ```
 * @param items - the array to reorder.
 * @param rng - the source of randomness.
 * @returns `items` itself, shuffled.
 * @see sampleWithoutReplacement
 */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/**
 * Picks `k` distinct items at random, every subset equally likely, in random order.
 *
 * <span class="informal">A partial Fisher–Yates shuffle of a copy: only the first k positions are
 * drawn, so picking few items from a large array stays cheap in random draws.</span>
 *
 * @example
 * ```ts
 * sampleWithoutReplacement(['a', 'b', 'c', 'd'], 2, mulberry32(3)); // e.g. ['c', 'a']
 * ```
 * @param items - the population; it is not modified.
 * @param k - how many to pick, from 0 to `items.length`.
 * @param rng - the source of randomness.
 * @returns a new array of `k` items.
 * @throws UsageError when k is not an integer in 0..items.length.
 * @see shuffleInPlace
 */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, rng: Rng): T[] {
  if (!Number.isInteger(k) || k < 0 || k > items.length) {
    throw new UsageError(`cannot pick ${k} items without replacement from ${items.length}`);
  }
  const pool = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(rng, pool.length - i);
    const tmp = pool[i] as T;
    pool[i] = pool[j] as T;
    pool[j] = tmp;
  }
  pool.length = k;
  return pool;
}

/**
 * A seed for one purpose, derived from the run's seed, so that independent random choices (which rows
 * to poison, the blend pattern, the training order) do not share one sequence: adding a draw to one
 * never changes another.
 *
 * <span class="informal">FNV-1a over the purpose's characters, mixed with the seed by a murmur3
 * finaliser; 32-bit integer arithmetic only, so identical on every machine.</span>
 *
 * @example
 * ```ts
 * const rowsRng = mulberry32(deriveSeed(seed, 'poison-rows'));
 * ```
 * @param seed - the run's seed (an integer; reduced to 32 bits).
 * @param purpose - a stable name for the use.
 * @returns a 32-bit unsigned seed.
 * @see mulberry32
 */
export function deriveSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
