import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import type { ExampleBatch } from '../../../src/data/exampleBatch.js';
import { DataError, ErrorCode, IoError } from '../../../src/errors.js';
import type { SourceBatch } from '../../../src/io/readDataset.js';
import { batchOf, binaries, fakeFile, int32s, strings } from '../../helpers/arrow.js';
import { md5Image } from '../../helpers/images.js';

// RxJS's case list for an operator (CONTRIBUTING.md): never, empty, one and many values, error,
// never-ending, early unsubscribe, callback throws. decodeExamples is synchronous per batch, so marble
// time applies exactly.

const file = fakeFile('part-0.parquet');

function source(ids: readonly string[], rowOffset: number, label = 0): SourceBatch {
  const batch = batchOf({
    id: strings(ids),
    label: int32s(ids.map(() => label)),
    image: binaries(ids.map((_, i) => md5Image(rowOffset + i, 16))),
  });
  return { batch, file, rowOffset };
}

const a = source(['a0', 'a1'], 0);
const b = source(['b0'], 2);
const bad = source(['c0'], 3, -1);
const repeat = source(['a1'], 3);

/** Marble values are the ids of each example batch, joined. */
const ids = (o: Observable<ExampleBatch>) => o.pipe(map((e) => e.ids.join()));

const empty = new DataError(ErrorCode.EmptyDataset, 'dataset has no rows', { location: { file: 'train/' } });

describe('decodeExamples marbles', () => {
  let scheduler: TestScheduler;

  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('never: emits nothing and stays subscribed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<SourceBatch>('-');
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-');
      expectSubscriptions(e1.subscriptions).toBe('^');
    });
  });

  it('empty: errors with EmptyDataset naming the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<SourceBatch>('---|');
      expectObservable(ids(e1.pipe(decodeExamples({ source: 'train/' })))).toBe('---#', undefined, empty);
      expectSubscriptions(e1.subscriptions).toBe('^--!');
    });
  });

  it('one value: decodes it and completes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-|', { a });
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x-|', { x: 'a0,a1' });
    });
  });

  it('many values: one example batch per source batch, in order', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a--b|', { a, b });
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x--y|', { x: 'a0,a1', y: 'b0' });
    });
  });

  it('source error: passes it on the error channel, after the values before it', () => {
    const io = new IoError(ErrorCode.CorruptFile, 'cannot decode row group 1');
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-#', { a }, io);
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x-#', { x: 'a0,a1' }, io);
    });
  });

  it('bad row: errors at that batch and unsubscribes from the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a-c-b-|', { a, b, c: bad });
      const expected = new DataError(ErrorCode.BadLabel, 'label -1 is negative', {
        location: { file: file.path, column: 'label', row: 3 },
      });
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x-#', { x: 'a0,a1' }, expected);
      expectSubscriptions(e1.subscriptions).toBe('^--!');
    });
  });

  it('never-ending: emits as batches come, never completes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a--b-', { a, b });
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x--y-', { x: 'a0,a1', y: 'b0' });
    });
  });

  it('early unsubscribe: tears the source down, no error for the missing completion', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('-a--b--|', { a, b });
      expectObservable(ids(e1.pipe(decodeExamples())), '^--!').toBe('-x-', { x: 'a0,a1' });
      expectSubscriptions(e1.subscriptions).toBe('^--!');
    });
  });

  it('callback throws: onColumns failing errors the stream and unsubscribes', () => {
    const boom = new Error('listener failed');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('--a--b|', { a, b });
      const decoded = e1.pipe(
        decodeExamples({
          onColumns: () => {
            throw boom;
          },
        }),
      );
      expectObservable(ids(decoded)).toBe('--#', undefined, boom);
      expectSubscriptions(e1.subscriptions).toBe('^-!');
    });
  });

  it('keeps state per subscription: two subscribers each see every id once', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-b|', { a, b });
      const decoded = ids(e1.pipe(decodeExamples()));
      expectObservable(decoded).toBe('-x-y|', { x: 'a0,a1', y: 'b0' });
      expectObservable(decoded).toBe('-x-y|', { x: 'a0,a1', y: 'b0' });
    });
  });

  it('repeated id across batches: DuplicateId at the later batch', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('-a-r|', { a, r: repeat });
      const expected = new DataError(ErrorCode.DuplicateId, "id 'a1' repeats the id of part-0.parquet#1", {
        location: { file: file.path, column: 'id', row: 3 },
      });
      expectObservable(ids(e1.pipe(decodeExamples()))).toBe('-x-#', { x: 'a0,a1' }, expected);
    });
  });
});
