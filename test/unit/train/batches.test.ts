import { concat, defer, lastValueFrom, type Observable, of, take, throwError, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import type { ExampleBatch } from '../../../src/data/exampleBatch.js';
import { type ImageShape, imageSize } from '../../../src/data/imageShape.js';
import { DataError, ErrorCode, IoError, UsageError } from '../../../src/errors.js';
import { readDataset } from '../../../src/io/readDataset.js';
import {
  type AugmentDraw,
  augmentImage,
  defaultPadding,
  drawAugment,
  resolveAugment,
} from '../../../src/train/batches/augment.js';
import { epochSeed, epochSource } from '../../../src/train/batches/epochs.js';
import { shuffleBuffer } from '../../../src/train/batches/shuffleBuffer.js';
import { DEFAULT_SHUFFLE_BUFFER, toTrainBatches } from '../../../src/train/batches/toTrainBatches.js';
import type { TrainBatch } from '../../../src/train/types.js';
import { mulberry32 } from '../../../src/util/random.js';
import { batchOf, binaries, decodeAll, int32s, strings } from '../../helpers/arrow.js';
import { md5Image } from '../../helpers/images.js';

const GREY: ImageShape = { height: 4, width: 4, channels: 1 };
const RGB: ImageShape = { height: 4, width: 4, channels: 3 };

/** A chunk of rows `start..start+n-1`: id `r<i>`, label `i % 10`, image md5Image(i) (every row differs). */
function chunk(start: number, n: number, shape: ImageShape = GREY): TrainBatch {
  const size = imageSize(shape);
  const images = new Uint8Array(n * size);
  const ids: string[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids.push(`r${start + i}`);
    labels[i] = (start + i) % 10;
    images.set(md5Image(start + i, size), i * size);
  }
  return { ids, images, labels, shape };
}

/** Consecutive chunks of the given sizes, rows numbered from 0. */
function chunks(sizes: readonly number[], shape: ImageShape = GREY): TrainBatch[] {
  const out: TrainBatch[] = [];
  let start = 0;
  for (const n of sizes) {
    out.push(chunk(start, n, shape));
    start += n;
  }
  return out;
}

function collect<T>(o: Observable<T>): Promise<T[]> {
  return lastValueFrom(o.pipe(toArray()));
}

const idsOf = (batches: readonly TrainBatch[]): string[] => batches.flatMap((b) => [...b.ids]);

/** The row number in an id `r<i>`. */
const rowOf = (id: string): number => Number(id.slice(1));

/** One row's pixels. */
function pixels(batch: TrainBatch, row: number): Uint8Array {
  const size = imageSize(batch.shape);
  return batch.images.subarray(row * size, (row + 1) * size);
}

describe('shuffleBuffer', () => {
  it('gives every order of a full shuffle about equally often', () => {
    // 3 items, buffer 3: all 6 orders, 6000 seeds, 1000 expected each. A 15% band is > 5 standard
    // deviations (sd ≈ 29), so a fair shuffle essentially never fails while a biased one does.
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6000; seed++) {
      let order = '';
      of('a', 'b', 'c')
        .pipe(shuffleBuffer({ size: 3, seed }))
        .subscribe((v) => {
          order += v;
        });
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['abc', 'acb', 'bac', 'bca', 'cab', 'cba']);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });
});

describe('toTrainBatches', () => {
  const data = chunks([100, 7, 300, 596]); // 1003 rows in uneven row groups

  it('emits every row exactly once, in batches of batchSize and a last partial batch', async () => {
    const batches = await collect(of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 1 })));
    expect(batches.map((b) => b.ids.length)).toEqual([...new Array<number>(15).fill(64), 43]);
    const ids = idsOf(batches);
    expect(new Set(ids).size).toBe(1003);
    expect(ids.map(rowOf).sort((a, b) => a - b)).toEqual([...Array(1003).keys()]);
  });

  it('drops the last partial batch with dropRemainder, losing only its rows', async () => {
    const batches = await collect(
      of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 1, dropRemainder: true })),
    );
    expect(batches.map((b) => b.ids.length)).toEqual(new Array<number>(15).fill(64));
    expect(new Set(idsOf(batches)).size).toBe(960);
  });

  it('keeps each row whole: its label and pixels travel with its id', async () => {
    const batches = await collect(of(...data).pipe(toTrainBatches({ batchSize: 50, seed: 2 })));
    for (const b of batches) {
      expect(b.shape).toEqual(GREY);
      expect(b.images.length).toBe(b.ids.length * 16);
      b.ids.forEach((id, r) => {
        expect(b.labels[r]).toBe(rowOf(id) % 10);
        expect(pixels(b, r)).toEqual(md5Image(rowOf(id), 16));
      });
    }
  });

  it('same seed, same batches; another seed, another order', async () => {
    const run = (seed: number) => collect(of(...data).pipe(toTrainBatches({ batchSize: 64, seed })));
    const [a, b, c] = await Promise.all([run(5), run(5), run(6)]);
    expect(idsOf(a)).toEqual(idsOf(b));
    expect(a.map((x) => x.images)).toEqual(b.map((x) => x.images));
    expect(idsOf(a)).not.toEqual(idsOf(c));
    expect(new Set(idsOf(c))).toEqual(new Set(idsOf(a)));
  });

  it('shuffles: a buffer of 1 keeps the source order, a full buffer mixes rows from the whole data', async () => {
    const inOrder = await collect(
      of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 1, shuffleBuffer: 1 })),
    );
    expect(idsOf(inOrder).map(rowOf)).toEqual([...Array(1003).keys()]);
    const full = await collect(
      of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 1, shuffleBuffer: 1003 })),
    );
    const first = (full[0] as TrainBatch).ids.map(rowOf);
    // 64 draws uniform over 1003 rows: all from the first half has probability about 2^-64.
    expect(first.some((r) => r >= 502)).toBe(true);
    expect(first.some((r) => r < 502)).toBe(true);
  });

  it('gives every subscription the same batches (state is per subscription)', async () => {
    const batches$ = of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 9, shuffleBuffer: 200 }));
    expect(idsOf(await collect(batches$))).toEqual(idsOf(await collect(batches$)));
  });

  it('types: takes the decode stage’s ExampleBatches (or TrainBatches) and emits TrainBatches', () => {
    const examples$ = of<ExampleBatch>();
    expectTypeOf(examples$.pipe(toTrainBatches({ batchSize: 1, seed: 1 }))).toEqualTypeOf<
      Observable<TrainBatch>
    >();
    expectTypeOf(epochSource(() => examples$, { cache: false }).forEpoch).returns.toEqualTypeOf<
      Observable<TrainBatch>
    >();
  });

  it('emits nothing for an empty source', async () => {
    expect(await collect(of<TrainBatch>().pipe(toTrainBatches({ batchSize: 8, seed: 1 })))).toEqual([]);
  });

  it('takes decoded ExampleBatches straight from the decode stage', async () => {
    const batch = batchOf({
      id: strings(['x', 'y', 'z']),
      label: int32s([2, 0, 1]),
      image: binaries([md5Image(0, 16), md5Image(1, 16), md5Image(2, 16)]),
    });
    const examples = await decodeAll([batch]);
    const [out] = await collect(
      of(...examples).pipe(toTrainBatches({ batchSize: 3, seed: 1, shuffleBuffer: 1 })),
    );
    expect(out?.ids).toEqual(['x', 'y', 'z']);
    expect([...(out?.labels ?? [])]).toEqual([2, 0, 1]);
    expect(out?.images).toEqual(examples[0]?.images);
  });

  it('copies rows into the output: the batches do not alias the source pixels', async () => {
    const source = chunk(0, 4);
    const [out] = await collect(of(source).pipe(toTrainBatches({ batchSize: 4, seed: 1, shuffleBuffer: 1 })));
    expect(out?.images.buffer).not.toBe(source.images.buffer);
    expect(out?.images).toEqual(source.images);
  });

  it('rejects invalid options when built, naming the value', () => {
    expect(() => toTrainBatches({ batchSize: 0, seed: 1 })).toThrow(UsageError);
    expect(() => toTrainBatches({ batchSize: 8, seed: 1.5 })).toThrow(/seed must be an integer, got 1.5/);
    expect(() => toTrainBatches({ batchSize: 8, seed: 1, shuffleBuffer: 0 })).toThrow(/shuffle buffer/);
    expect(() => toTrainBatches({ batchSize: 8, seed: 1, augment: { padding: -1 } })).toThrow(
      /padding must be a non-negative integer, got -1/,
    );
    expect(DEFAULT_SHUFFLE_BUFFER).toBe(10_000);
  });

  it('errors with MixedImageShapes when a chunk has another shape', async () => {
    const mixed = of(chunk(0, 3, GREY), chunk(3, 3, RGB)).pipe(toTrainBatches({ batchSize: 2, seed: 1 }));
    const err = await collect(mixed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe(ErrorCode.MixedImageShapes);
    expect((err as DataError).message).toMatch(/4x4x3 images follows 4x4x1/);
  });

  it('errors with BadImage when a chunk has too few pixels for its ids', async () => {
    const bad: TrainBatch = { ...chunk(0, 3), images: new Uint8Array(10) };
    const err = await collect(of(bad).pipe(toTrainBatches({ batchSize: 2, seed: 1 }))).catch(
      (e: unknown) => e,
    );
    expect((err as DataError).code).toBe(ErrorCode.BadImage);
  });

  describe('augmentation', () => {
    const colour = chunks([40, 24], RGB);

    /** All (2p+1)² shifts, flipped and not. */
    function allDraws(padding: number): AugmentDraw[] {
      const draws: AugmentDraw[] = [];
      for (let dy = -padding; dy <= padding; dy++)
        for (let dx = -padding; dx <= padding; dx++)
          for (const flip of [false, true]) draws.push({ dy, dx, flip });
      return draws;
    }

    it("'auto' leaves 1-channel images untouched", async () => {
      const batches = await collect(
        of(...data).pipe(toTrainBatches({ batchSize: 64, seed: 3, augment: 'auto' })),
      );
      for (const b of batches)
        b.ids.forEach((id, r) => {
          expect(pixels(b, r)).toEqual(md5Image(rowOf(id), 16));
        });
    });

    it("'auto' crops and flips 3-channel images: each row is its image under one of the possible draws", async () => {
      const batches = await collect(
        of(...colour).pipe(toTrainBatches({ batchSize: 16, seed: 3, augment: 'auto' })),
      );
      const padding = defaultPadding(RGB); // 1 for 4×4 images
      expect(padding).toBe(1);
      const draws = allDraws(padding);
      const used = new Set<string>();
      for (const b of batches) {
        b.ids.forEach((id, r) => {
          const original = md5Image(rowOf(id), imageSize(RGB));
          const matching = draws.filter((d) =>
            augmentImage(original, RGB, d).every((v, i) => v === pixels(b, r)[i]),
          );
          expect(matching.length).toBeGreaterThan(0);
          used.add(JSON.stringify(matching[0]));
        });
      }
      // 64 rows over 18 draws: both flips and several shifts must occur.
      expect([...used].some((d) => d.includes('"flip":true'))).toBe(true);
      expect([...used].some((d) => d.includes('"flip":false'))).toBe(true);
      expect(used.size).toBeGreaterThan(6);
    });

    it('does not change the order: the same seed gives the same ids with augmentation on or off', async () => {
      const on = await collect(of(...colour).pipe(toTrainBatches({ batchSize: 16, seed: 4, augment: true })));
      const off = await collect(of(...colour).pipe(toTrainBatches({ batchSize: 16, seed: 4 })));
      expect(idsOf(on)).toEqual(idsOf(off));
      expect(on.map((b) => b.images)).not.toEqual(off.map((b) => b.images));
    });

    it('is reproducible from the seed', async () => {
      const run = () =>
        collect(of(...colour).pipe(toTrainBatches({ batchSize: 16, seed: 4, augment: true })));
      expect((await run()).map((b) => b.images)).toEqual((await run()).map((b) => b.images));
    });
  });
});

describe('augment functions', () => {
  // 3×3 grey image:  1 2 3 / 4 5 6 / 7 8 9
  const img = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
  const S3: ImageShape = { height: 3, width: 3, channels: 1 };
  const run = (draw: AugmentDraw) => [...augmentImage(img, S3, draw)];

  it('shifts with zeros shifted in (crop offset = padding + shift)', () => {
    expect(run({ dy: 0, dx: 0, flip: false })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(run({ dy: 1, dx: 0, flip: false })).toEqual([4, 5, 6, 7, 8, 9, 0, 0, 0]);
    expect(run({ dy: -1, dx: 0, flip: false })).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6]);
    expect(run({ dy: 0, dx: -1, flip: false })).toEqual([0, 1, 2, 0, 4, 5, 0, 7, 8]);
    expect(run({ dy: -1, dx: 2, flip: false })).toEqual([0, 0, 0, 3, 0, 0, 6, 0, 0]);
    expect(run({ dy: 0, dx: 3, flip: false })).toEqual(new Array<number>(9).fill(0));
  });

  it('flips left-right after the crop', () => {
    expect(run({ dy: 0, dx: 0, flip: true })).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    // crop [2 3 0 / 5 6 0 / 8 9 0], then mirror
    expect(run({ dy: 0, dx: 1, flip: true })).toEqual([0, 3, 2, 0, 6, 5, 0, 9, 8]);
    expect(run({ dy: 1, dx: -1, flip: true })).toEqual([5, 4, 0, 8, 7, 0, 0, 0, 0]);
  });

  it('keeps each pixel’s channels together when flipping colour images', () => {
    // 1×2×3: pixel A = (1,2,3), pixel B = (4,5,6)
    const rgb = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const shape = { height: 1, width: 2, channels: 3 };
    expect([...augmentImage(rgb, shape, { dy: 0, dx: 0, flip: true })]).toEqual([4, 5, 6, 1, 2, 3]);
    expect([...augmentImage(rgb, shape, { dy: 0, dx: 1, flip: false })]).toEqual([4, 5, 6, 0, 0, 0]);
  });

  it('equals pad-with-zeros, crop H×W at (padding + dy, padding + dx), then flip, for every draw', () => {
    const shape: ImageShape = { height: 5, width: 4, channels: 3 };
    const src = md5Image(7, imageSize(shape));
    const p = 2;
    for (let top = 0; top <= 2 * p; top++) {
      for (let left = 0; left <= 2 * p; left++) {
        for (const flip of [false, true]) {
          const expected = padCropFlip(src, shape, p, top, left, flip);
          expect(augmentImage(src, shape, { dy: top - p, dx: left - p, flip })).toEqual(expected);
        }
      }
    }
  });

  it('writes into a batch at an offset, leaving the rest of it alone', () => {
    const out = new Uint8Array(20).fill(255);
    augmentImage(img, S3, { dy: 1, dx: 0, flip: false }, out, 5);
    expect([...out]).toEqual([
      255,
      255,
      255,
      255,
      255,
      4,
      5,
      6,
      7,
      8,
      9,
      0,
      0,
      0,
      ...new Array<number>(6).fill(255),
    ]);
  });

  it("resolves 'auto' by channel count and fills in defaults", () => {
    const grey28 = { height: 28, width: 28, channels: 1 };
    const rgb32 = { height: 32, width: 32, channels: 3 };
    expect(resolveAugment('auto', grey28)).toBeNull();
    expect(resolveAugment('auto', rgb32)).toEqual({ padding: 4, flip: true });
    expect(resolveAugment(undefined, rgb32)).toBeNull();
    expect(resolveAugment(false, rgb32)).toBeNull();
    expect(resolveAugment(true, grey28)).toEqual({ padding: 4, flip: true });
    expect(resolveAugment({ flip: false }, rgb32)).toEqual({ padding: 4, flip: false });
    expect(resolveAugment({ padding: 0, flip: false }, rgb32)).toBeNull();
    expect([8, 28, 32, 64].map((s) => defaultPadding({ height: s, width: s, channels: 3 }))).toEqual([
      1, 4, 4, 8,
    ]);
  });

  it('draws shifts uniformly in -padding..padding and flips about half the time', () => {
    const rng = mulberry32(1);
    const counts = new Map<number, number>();
    let flips = 0;
    for (let i = 0; i < 9000; i++) {
      const d = drawAugment(rng, { padding: 4, flip: true });
      counts.set(d.dy, (counts.get(d.dy) ?? 0) + 1);
      if (d.flip) flips++;
      expect(Math.abs(d.dx)).toBeLessThanOrEqual(4);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(Math.abs(flips - 4500)).toBeLessThan(300);
    expect(drawAugment(rng, { padding: 0, flip: false })).toEqual({ dy: 0, dx: 0, flip: false });
  });
});

/** The textbook definition, written independently: zero-pad by p, crop H×W at (top, left), mirror. */
function padCropFlip(
  src: Uint8Array,
  shape: ImageShape,
  p: number,
  top: number,
  left: number,
  flip: boolean,
): Uint8Array {
  const { height: h, width: w, channels: c } = shape;
  const pw = w + 2 * p;
  const padded = new Uint8Array((h + 2 * p) * pw * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) padded[((y + p) * pw + x + p) * c + k] = src[(y * w + x) * c + k] as number;
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const cx = flip ? w - 1 - x : x;
      for (let k = 0; k < c; k++)
        out[(y * w + x) * c + k] = padded[((y + top) * pw + cx + left) * c + k] as number;
    }
  return out;
}

describe('epochSource', () => {
  /** A source factory over `data` that counts its subscriptions. */
  function counted(data: readonly TrainBatch[]) {
    const counter = { subscriptions: 0 };
    const source = () =>
      defer(() => {
        counter.subscriptions++;
        return of(...data);
      });
    return { counter, source };
  }

  const data = chunks([30, 30, 13]);

  it('cache: false subscribes to the source every epoch and gives the same rows', async () => {
    const { counter, source } = counted(data);
    const epochs = epochSource(source, { cache: false });
    for (let e = 0; e < 3; e++) expect(idsOf(await collect(epochs.forEpoch(e)))).toEqual(idsOf(data));
    expect(counter.subscriptions).toBe(3);
    expect(epochs.cached).toBe(false);
  });

  it('cache: true reads the source once and replays the same rows', async () => {
    const { counter, source } = counted(data);
    const epochs = epochSource(source, { cache: true });
    const first = await collect(epochs.forEpoch(0));
    expect(epochs.cached).toBe(true);
    expect(epochs.cachedRows).toBe(73);
    expect(epochs.cachedBytes).toBeGreaterThanOrEqual(73 * (16 + 4));
    for (let e = 1; e < 4; e++) {
      const replay = await collect(epochs.forEpoch(e));
      expect(idsOf(replay)).toEqual(idsOf(first));
      expect(replay.map((b) => b.images)).toEqual(first.map((b) => b.images));
      expect(replay.map((b) => b.labels)).toEqual(first.map((b) => b.labels));
    }
    expect(counter.subscriptions).toBe(1);
  });

  it('caches only what training needs: no Arrow batch, and no views into larger buffers', async () => {
    const batch = batchOf({
      id: strings(['x', 'y']),
      label: int32s([1, 0]),
      image: binaries([md5Image(0, 16), md5Image(1, 16)]),
    });
    const [example] = await decodeAll([batch]);
    const big = new Uint8Array(1000);
    const view: TrainBatch = { ...chunk(0, 2), images: big.subarray(100, 132) };
    const epochs = epochSource(() => of(example as TrainBatch, view), { cache: true });
    const live = await collect(epochs.forEpoch(0));
    expect('batch' in (live[0] as object)).toBe(true); // the live pass passes ExampleBatches through
    const [a, b] = await collect(epochs.forEpoch(1));
    expect(Object.keys(a as object).sort()).toEqual(['ids', 'images', 'labels', 'shape']);
    expect(a?.ids).toEqual(['x', 'y']);
    expect(b?.images.buffer.byteLength).toBe(32);
    expect(b?.images).toEqual(view.images);
  });

  it("cache: 'auto' streams every epoch when the data does not fit", async () => {
    const { counter, source } = counted(data);
    const epochs = epochSource(source, { cache: 'auto', maxCacheBytes: 500 });
    for (let e = 0; e < 3; e++) expect(idsOf(await collect(epochs.forEpoch(e)))).toEqual(idsOf(data));
    expect(counter.subscriptions).toBe(3);
    expect(epochs.cached).toBe(false);
  });

  it("cache: 'auto' caches when the data fits", async () => {
    const { counter, source } = counted(data);
    const epochs = epochSource(source, { cache: 'auto', maxCacheBytes: 1e6 });
    for (let e = 0; e < 3; e++) await collect(epochs.forEpoch(e));
    expect(counter.subscriptions).toBe(1);
    expect(epochs.cached).toBe(true);
  });

  it('cache: true errors when the data outgrows maxCacheBytes', async () => {
    const epochs = epochSource(counted(data).source, { cache: true, maxCacheBytes: 500 });
    const err = await collect(epochs.forEpoch(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/more than maxCacheBytes \(500 bytes\)/);
  });

  it('caches only a complete pass: an errored or abandoned pass leaves the source to be read again', async () => {
    let subscriptions = 0;
    let fail = true;
    const source = () =>
      defer(() => {
        subscriptions++;
        if (fail) {
          fail = false;
          // A reader losing its file after two row groups.
          const lost = new IoError(ErrorCode.CorruptFile, 'disk gone');
          return concat(
            of(...data.slice(0, 2)),
            throwError(() => lost),
          );
        }
        return of(...data);
      });
    const epochs = epochSource(source, { cache: true });
    await expect(collect(epochs.forEpoch(0))).rejects.toThrow('disk gone');
    expect(epochs.cached).toBe(false);
    await collect(epochs.forEpoch(0).pipe(take(1)));
    expect(epochs.cached).toBe(false);
    await collect(epochs.forEpoch(0));
    expect(epochs.cached).toBe(true);
    await collect(epochs.forEpoch(1));
    expect(subscriptions).toBe(3);
  });

  it('rejects a bad epoch, cache mode or limit', () => {
    const { source } = counted(data);
    expect(() => epochSource(source, { cache: false }).forEpoch(-1)).toThrow(UsageError);
    expect(() => epochSource(source, { cache: true, maxCacheBytes: 0 })).toThrow(/maxCacheBytes/);
    expect(() => epochSeed(1, 0.5)).toThrow(/epoch must be a non-negative integer/);
  });

  describe('batchesForEpoch', () => {
    it('orders each epoch by its own seed: reproducible, and different between epochs', async () => {
      const make = () => epochSource(counted(data).source, { cache: false });
      const opts = { batchSize: 16, seed: 42 };
      const a = make();
      const b = make();
      const a0 = idsOf(await collect(a.batchesForEpoch(0, opts)));
      const a1 = idsOf(await collect(a.batchesForEpoch(1, opts)));
      expect(idsOf(await collect(b.batchesForEpoch(1, opts)))).toEqual(a1);
      expect(idsOf(await collect(b.batchesForEpoch(0, opts)))).toEqual(a0);
      expect(a1).not.toEqual(a0);
      expect(new Set(a1)).toEqual(new Set(a0));
      expect(idsOf(await collect(a.batchesForEpoch(0, { ...opts, seed: 43 })))).not.toEqual(a0);
    });

    it('shuffles the whole data once it is cached', async () => {
      const epochs = epochSource(counted(data).source, { cache: true });
      await collect(epochs.forEpoch(0));
      const opts = { batchSize: 16, seed: 42 };
      const got = await collect(epochs.batchesForEpoch(2, opts));
      const expected = await collect(
        of(...data).pipe(toTrainBatches({ ...opts, seed: epochSeed(42, 2), shuffleBuffer: 73 })),
      );
      expect(idsOf(got)).toEqual(idsOf(expected));
    });
  });
});

describe('epochs over the Fashion-MNIST fixture', () => {
  const path = 'fixtures/fashion-mnist/train.parquet';

  it.each([false, 'auto'] as const)(
    'cache %s: every one of the 3000 ids once per epoch, labels intact, a new order each epoch',
    async (cache) => {
      let reads = 0;
      const epochs = epochSource(
        () =>
          defer(() => {
            reads++;
            return readDataset(path).pipe(decodeExamples());
          }),
        { cache },
      );
      const labelOf = new Map<string, number>();
      for (const ex of await collect(readDataset(path).pipe(decodeExamples())))
        ex.ids.forEach((id, i) => {
          labelOf.set(id, ex.labels[i] as number);
        });
      expect(labelOf.size).toBe(3000);

      const orders: string[][] = [];
      for (let e = 0; e < 3; e++) {
        const batches = await collect(
          epochs.batchesForEpoch(e, { batchSize: 128, seed: 7, augment: 'auto' }),
        );
        expect(batches.map((b) => b.ids.length)).toEqual([...new Array<number>(23).fill(128), 56]);
        const ids = idsOf(batches);
        expect(new Set(ids)).toEqual(new Set(labelOf.keys()));
        expect(ids.length).toBe(3000);
        for (const b of batches) {
          expect(b.shape).toEqual({ height: 28, width: 28, channels: 1 });
          b.ids.forEach((id, i) => {
            expect(b.labels[i]).toBe(labelOf.get(id));
          });
        }
        orders.push(ids);
      }
      expect(orders[1]).not.toEqual(orders[0]);
      expect(orders[2]).not.toEqual(orders[1]);
      expect(reads).toBe(cache === false ? 3 : 1);
    },
  );
});
