import { concat, defer, filter, finalize, type MonoTypeOperatorFunction, map, Observable } from 'rxjs';
import { UsageError } from '../../errors.js';
import { mulberry32, randomInt } from '../../util/random.js';

/** Options of {@link shuffleBuffer}. */
export interface ShuffleBufferOptions {
  /** How many items the buffer holds: 1 keeps the source order; at least the item count gives a full shuffle. */
  readonly size: number;
  /** Seed of the draws (an integer); the same seed and source give the same order. */
  readonly seed: number;
}

/** Marks "nothing to emit yet" while the buffer fills; a symbol, so that any `T` can pass through. */
const FILLING: unique symbol = Symbol('filling');

/**
 * A seeded shuffle buffer, like tf.data's `shuffle(bufferSize)`: approximately random order in bounded
 * memory.
 *
 * <span class="informal">Fills `size` items; from then on every new item makes it emit a uniformly
 * chosen buffered item and take that item's place; when the source completes it flushes the rest in
 * random order. An item comes out at most `size - 1` places earlier than it went in, but may come out
 * any number of places later.</span>
 *
 * ```text
 * source:                          -a-b-c-d-|
 * shuffleBuffer({size: 2, seed}):  -----x-y-(zw|)   (x, y, z, w: a, b, c, d in a seeded order)
 * ```
 *
 * Errors pass on at once and drop the buffered items, as `bufferCount` does. The operator does all its
 * work inside the source's `next` and `complete` calls (no scheduling), so it keeps whatever pacing a
 * pull-based source has; the flush stops as soon as the subscriber unsubscribes (e.g. `take(n)`).
 *
 * @example
 * ```ts
 * range(0, 10).pipe(shuffleBuffer({ size: 4, seed: 7 })).subscribe(console.log); // 0-9, seeded order
 * ```
 * @see toTrainBatches
 * @param options - buffer size and seed.
 * @returns an operator; its buffer and random generator are per subscription, so every subscription
 *   gives the same order.
 * @throws UsageError when the size is not a positive integer or the seed not an integer.
 */
export function shuffleBuffer<T>(options: ShuffleBufferOptions): MonoTypeOperatorFunction<T> {
  const { size, seed } = options;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new UsageError(`shuffle buffer size must be a positive integer, got ${size}`);
  }
  if (!Number.isSafeInteger(seed)) throw new UsageError(`shuffle seed must be an integer, got ${seed}`);
  return (source) =>
    defer(() => {
      const rng = mulberry32(seed);
      let buffer: T[] = [];
      // Built from rxjs's own operators rather than a hand-written subscriber, so that errors,
      // completion and teardown (including unsubscribing from a synchronous source mid-emission) are
      // handled by rxjs in one place.
      const swapped$ = source.pipe(
        map((value): T | typeof FILLING => {
          if (buffer.length < size) {
            buffer.push(value);
            return FILLING;
          }
          const j = randomInt(rng, size);
          const out = buffer[j] as T;
          buffer[j] = value;
          return out;
        }),
        filter((value): value is T => value !== FILLING),
      );
      const flush$ = new Observable<T>((subscriber) => {
        // Swap-remove a random item each time: a Fisher–Yates pass over what is left. Checking `closed`
        // stops the flush when the subscriber has had enough.
        while (buffer.length > 0 && !subscriber.closed) {
          const j = randomInt(rng, buffer.length);
          const out = buffer[j] as T;
          buffer[j] = buffer[buffer.length - 1] as T;
          buffer.pop();
          subscriber.next(out);
        }
        subscriber.complete();
      });
      // Releases the buffered items on error or early unsubscribe, not only after a full flush.
      return concat(swapped$, flush$).pipe(
        finalize(() => {
          buffer = [];
        }),
      );
    });
}
