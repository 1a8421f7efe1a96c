import { defer, from, type Observable, tap } from 'rxjs';
import { UsageError } from '../../errors.js';
import { deriveSeed } from '../../util/random.js';
import type { TrainBatch } from '../types.js';
import { DEFAULT_SHUFFLE_BUFFER, type ToTrainBatchesOptions, toTrainBatches } from './toTrainBatches.js';

/** Cache limit unless told otherwise: 2 GiB, about 2.7 million 28×28 or 680,000 32×32×3 images. */
export const DEFAULT_MAX_CACHE_BYTES = 2 * 1024 ** 3;

/** Options of {@link epochSource}. */
export interface EpochSourceOptions {
  /**
   * `false`: read the source again every epoch (data larger than memory). `true`: keep the first full
   * pass in memory and replay it; a pass that outgrows `maxCacheBytes` errors. `'auto'`: cache when
   * the data fits in `maxCacheBytes`, otherwise (decided during the first pass, which holds up to
   * `maxCacheBytes` while it finds out) read it every epoch.
   */
  readonly cache: boolean | 'auto';
  /** Most bytes the cache may hold (pixels, labels and an estimate of the ids). Defaults to 2 GiB. */
  readonly maxCacheBytes?: number | undefined;
}

/** The data of a training run, one pass per epoch. See {@link epochSource}. */
export interface EpochSource {
  /**
   * The examples of one epoch, in source order: a fresh subscription to the source, or a replay of the
   * cache once a full pass has been cached. The same rows every epoch; the order of training comes
   * from {@link EpochSource.batchesForEpoch}, which seeds the shuffle per epoch.
   *
   * Cached batches are shared between epochs: read them, never write into them.
   */
  forEpoch(epoch: number): Observable<TrainBatch>;
  /**
   * The epoch's shuffled train batches: {@link EpochSource.forEpoch} through `toTrainBatches` with the
   * seed `epochSeed(options.seed, epoch)`. Unless `options.shuffleBuffer` is given, the buffer holds
   * every row once the data is cached (a full shuffle, costing no memory beyond the cache), and
   * `DEFAULT_SHUFFLE_BUFFER` rows otherwise.
   */
  batchesForEpoch(epoch: number, options: ToTrainBatchesOptions): Observable<TrainBatch>;
  /** Whether a full pass is cached (later epochs replay it without reading the source). */
  readonly cached: boolean;
  /** Rows in the cache (0 while nothing is cached). */
  readonly cachedRows: number;
  /** Estimated bytes the cache holds (0 while nothing is cached). */
  readonly cachedBytes: number;
}

/**
 * The seed of one epoch's order and augmentation, derived from the run's seed, so that every epoch is
 * shuffled differently and any epoch can be reproduced on its own.
 *
 * @example
 * ```ts
 * toTrainBatches({ batchSize: 128, seed: epochSeed(runSeed, 3) });
 * ```
 * @param seed - the run's seed (an integer).
 * @param epoch - the epoch number (a non-negative integer).
 * @returns `deriveSeed(seed, 'epoch-<epoch>')`.
 * @throws UsageError when the epoch is not a non-negative integer.
 * @see deriveSeed
 */
export function epochSeed(seed: number, epoch: number): number {
  checkEpoch(epoch);
  return deriveSeed(seed, `epoch-${epoch}`);
}

/**
 * Runs a training dataset for several epochs: re-reads it every epoch, or caches the decoded rows of
 * the first full pass and replays them.
 *
 * <span class="informal">Reading and decoding Parquet is cheap next to training (a quarter of a second
 * for 60,000 Fashion-MNIST rows), so re-reading is the safe choice for data larger than memory; a
 * cache saves it when the data fits, and lets every epoch shuffle the whole data.</span>
 *
 * ```text
 * source():                      --a--b--|    (subscribed for epoch 0 only, when cached)
 * forEpoch(0), cache: true:      --a--b--|    (live; a and b are kept, without their Arrow batches)
 * forEpoch(1):                   (ab|)        (replayed synchronously from the cache)
 * forEpoch(1), cache: false:     --a--b--|    (source() subscribed again)
 * ```
 *
 * The cache keeps only what training needs: ids, uint8 pixels, labels and shape. An
 * {@link ExampleBatch}'s `batch` (the Arrow record batch with every original column) and `file` are
 * dropped, and pixels or labels that are views into a larger buffer are copied, so the cache pins no
 * other memory. Only a pass that completes fills the cache; an errored or unsubscribed pass leaves it
 * empty, and the next epoch reads the source again.
 *
 * @example
 * ```ts
 * const epochs = epochSource(() => readDataset(path).pipe(decodeExamples()), { cache: 'auto' });
 * for (let e = 0; e < 10; e++) {
 *   await trainEpoch(model, epochs.batchesForEpoch(e, { batchSize: 128, seed, augment: 'auto' }), { optimizer, objective });
 * }
 * ```
 * @see toTrainBatches
 * @see epochSeed
 * @param source - makes the data's Observable; called for every pass that is not replayed.
 * @param options - the cache policy and limit.
 * @returns the epoch source; its cache is shared by all its epochs.
 * @throws UsageError when `maxCacheBytes` is not a positive number; a pass that outgrows it with
 *   `cache: true` errors with a UsageError.
 */
export function epochSource(source: () => Observable<TrainBatch>, options: EpochSourceOptions): EpochSource {
  const mode = options.cache;
  const maxCacheBytes = options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
  if (mode !== true && mode !== false && mode !== 'auto') {
    throw new UsageError(`cache must be true, false or 'auto', got ${String(mode)}`);
  }
  if (!(maxCacheBytes > 0)) {
    throw new UsageError(`maxCacheBytes must be a positive number, got ${maxCacheBytes}`);
  }
  let cache: {
    readonly chunks: readonly TrainBatch[];
    readonly rows: number;
    readonly bytes: number;
  } | null = null;
  // Set once a pass has shown that the data does not fit ('auto'): later passes stop counting.
  let tooLarge = false;

  const forEpoch = (epoch: number): Observable<TrainBatch> => {
    checkEpoch(epoch);
    return defer(() => {
      if (cache !== null) return from(cache.chunks);
      if (mode === false || tooLarge) return source();
      // Each live pass collects its own copy: concurrent passes cannot mix rows, and the first one to
      // complete fills the cache.
      let chunks: TrainBatch[] = [];
      let rows = 0;
      let bytes = 0;
      let collecting = true;
      return source().pipe(
        tap({
          next(chunk) {
            if (!collecting) return;
            bytes += estimateBytes(chunk);
            if (bytes > maxCacheBytes) {
              collecting = false;
              chunks = [];
              if (mode === true) {
                throw new UsageError(
                  `the training data needs more than maxCacheBytes (${maxCacheBytes} bytes) to cache; raise maxCacheBytes, or set cache to 'auto' or false to re-read it every epoch`,
                );
              }
              tooLarge = true;
              return;
            }
            chunks.push(cacheCopy(chunk));
            rows += chunk.ids.length;
          },
          complete() {
            if (collecting && cache === null) cache = { chunks, rows, bytes };
          },
        }),
      );
    });
  };

  return {
    forEpoch,
    batchesForEpoch(epoch, batchOptions) {
      const seed = epochSeed(batchOptions.seed, epoch);
      return defer(() => {
        // Decided at subscription, not here: the cache may fill between building and subscribing.
        const size =
          batchOptions.shuffleBuffer ?? (cache === null ? DEFAULT_SHUFFLE_BUFFER : Math.max(1, cache.rows));
        return forEpoch(epoch).pipe(toTrainBatches({ ...batchOptions, seed, shuffleBuffer: size }));
      });
    },
    get cached() {
      return cache !== null;
    },
    get cachedRows() {
      return cache?.rows ?? 0;
    },
    get cachedBytes() {
      return cache?.bytes ?? 0;
    },
  };
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new UsageError(`epoch must be a non-negative integer, got ${epoch}`);
  }
}

/**
 * Bytes a cached chunk costs: pixels and labels exactly, ids estimated (a V8 string header, one or two
 * bytes a character, and the array slot).
 */
function estimateBytes(chunk: TrainBatch): number {
  let bytes = chunk.images.byteLength + chunk.labels.byteLength;
  for (const id of chunk.ids) bytes += 24 + 2 * id.length;
  return bytes;
}

/** What the cache keeps of a chunk: a plain TrainBatch whose arrays own their memory. */
function cacheCopy(chunk: TrainBatch): TrainBatch {
  return {
    ids: chunk.ids.slice(),
    images: owned(chunk.images),
    labels: owned(chunk.labels),
    shape: chunk.shape,
  };
}

/** The array itself when it spans its whole buffer, else a copy, so a view cannot pin a larger buffer. */
function owned<A extends Uint8Array | Int32Array>(array: A): A {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength
    ? array
    : (array.slice() as A);
}
