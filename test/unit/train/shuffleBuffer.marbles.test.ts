import { take, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { shuffleBuffer } from '../../../src/train/batches/shuffleBuffer.js';
import { mulberry32, randomInt } from '../../../src/util/random.js';

// RxJS's case list for an operator (CONTRIBUTING.md): never, empty, one and many values, error,
// never-ending, early unsubscribe. shuffleBuffer takes no callbacks; instead, a subscriber that stops
// during the flush must stop it. The operator is synchronous, so marble time applies exactly.

const SEED = 11;

/**
 * tf.data's shuffle semantics written out plainly, as the oracle for the marble values: fill `size`
 * items, then each new item swaps with a uniformly chosen buffered one, which is emitted; at the end
 * the rest come out in uniformly random order.
 */
function referenceOrder<T>(items: readonly T[], size: number, seed: number): T[] {
  const rng = mulberry32(seed);
  const buffer: T[] = [];
  const out: T[] = [];
  for (const item of items) {
    if (buffer.length < size) {
      buffer.push(item);
      continue;
    }
    const j = randomInt(rng, size);
    out.push(buffer[j] as T);
    buffer[j] = item;
  }
  while (buffer.length > 0) {
    const j = randomInt(rng, buffer.length);
    out.push(buffer[j] as T);
    buffer[j] = buffer[buffer.length - 1] as T;
    buffer.pop();
  }
  return out;
}

/** Marble values `{w, x, y, z}` (in that order) for the reference order of `items`. */
function expectedValues(items: readonly string[], size: number): Record<string, string> {
  const order = referenceOrder(items, size, SEED);
  return Object.fromEntries(order.map((v, i) => ['wxyz'[i] as string, v]));
}

describe('shuffleBuffer marbles', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('never: emits nothing and stays subscribed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<string>('-');
      expectObservable(e1.pipe(shuffleBuffer({ size: 3, seed: SEED }))).toBe('-');
      expectSubscriptions(e1.subscriptions).toBe('^');
    });
  });

  it('empty: completes with the source, emitting nothing', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<string>('---|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 3, seed: SEED }))).toBe('---|');
      expectSubscriptions(e1.subscriptions).toBe('^--!');
    });
  });

  it('one value: holds it until completion, then flushes it', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 3, seed: SEED }))).toBe('---(a|)');
    });
  });

  it('size 1: passes values through in order, each as the next arrives', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-b-c|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 1, seed: SEED }))).toBe('---a-b(c|)');
    });
  });

  it('many values: emits one per arrival once full, then flushes the rest at completion', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 2);
    expect(Object.values(values).sort()).toEqual(['a', 'b', 'c', 'd']);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a-b-c-d-|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 2, seed: SEED }))).toBe('-----w-x-(yz|)', values);
      expectSubscriptions(e1.subscriptions).toBe('^--------!');
    });
  });

  it('buffer larger than the data: a full shuffle, all at completion', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 10);
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-b-c-d|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 10, seed: SEED }))).toBe('--------(wxyz|)', values);
    });
  });

  it('error: passes it on at once, dropping the buffered values', () => {
    const err = new Error('row group 3 is corrupt');
    const values = expectedValues(['a', 'b', 'c'], 2);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a-b-c-#', undefined, err);
      expectObservable(e1.pipe(shuffleBuffer({ size: 2, seed: SEED }))).toBe(
        '-----w-#',
        { w: values.w },
        err,
      );
      expectSubscriptions(e1.subscriptions).toBe('^------!');
    });
  });

  it('never-ending: emits one value per arrival once full, never completes', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 2);
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-b-c-d-');
      expectObservable(e1.pipe(shuffleBuffer({ size: 2, seed: SEED }))).toBe('-----w-x-', {
        w: values.w,
        x: values.x,
      });
    });
  });

  it('early unsubscribe: tears the source down, no flush', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 2);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a-b-c-d-|');
      expectObservable(e1.pipe(shuffleBuffer({ size: 2, seed: SEED })), '^-----!').toBe('-----w-', {
        w: values.w,
      });
      expectSubscriptions(e1.subscriptions).toBe('^-----!');
    });
  });

  it('a subscriber that stops during the flush stops it', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 10);
    let emitted = 0;
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a-b-c-d|');
      const shuffled = e1.pipe(
        shuffleBuffer({ size: 10, seed: SEED }),
        tap(() => emitted++),
        take(2),
      );
      expectObservable(shuffled).toBe('--------(wx|)', { w: values.w, x: values.x });
      expectSubscriptions(e1.subscriptions).toBe('^-------!');
    });
    expect(emitted).toBe(2);
  });

  it('keeps state per subscription: two subscribers see the same order', () => {
    const values = expectedValues(['a', 'b', 'c', 'd'], 2);
    scheduler.run(({ cold, expectObservable }) => {
      const shuffled = cold('-a-b-c-d-|').pipe(shuffleBuffer({ size: 2, seed: SEED }));
      expectObservable(shuffled).toBe('-----w-x-(yz|)', values);
      expectObservable(shuffled).toBe('-----w-x-(yz|)', values);
    });
  });

  it('rejects a bad size or seed when the operator is built', () => {
    expect(() => shuffleBuffer({ size: 0, seed: 1 })).toThrow(UsageError);
    expect(() => shuffleBuffer({ size: 2.5, seed: 1 })).toThrow(/positive integer, got 2.5/);
    expect(() => shuffleBuffer({ size: 2, seed: Number.NaN })).toThrow(/seed must be an integer/);
  });
});
