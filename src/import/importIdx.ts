import { basename } from 'node:path';
import type { ImageShape } from '../data/imageShape.js';
import { DataError, ErrorCode } from '../errors.js';
import type { ImageRows } from './imageTable.js';
import { readIdx } from './readIdx.js';
import { type ImportResult, writeImageRows } from './writeImageRows.js';

/** Options of {@link readIdxRows}: a pair of IDX files and what to call their rows. */
export interface IdxRowsOptions {
  /** IDX images file (items × height × width, or × channels too), plain or gzip. */
  readonly images: string;
  /** IDX labels file (one unsigned byte per item), plain or gzip. */
  readonly labels: string;
  /** Split of every row, e.g. `train`. */
  readonly split: string;
  /** The `source` column; defaults to the images file's name. */
  readonly source?: string | undefined;
  /** Class names, index = label; every label must then be below their count. */
  readonly classNames?: readonly string[] | undefined;
  /** Id prefix (default: `split`): ids are `<prefix>-<index>`, the index zero-padded to 5 digits. */
  readonly idPrefix?: string | undefined;
}

/** Options of {@link importIdx}. */
export interface ImportIdxOptions extends IdxRowsOptions {
  /** The Parquet file to write. */
  readonly out: string;
}

/**
 * Reads an images/labels pair of IDX files (MNIST layout) into rows, checking that they match.
 *
 * <span class="informal">Row i is item i of both files and gets the id `<prefix>-<i>`, so ids stay the
 * same however the data is later sampled or reordered.</span>
 *
 * @example
 * ```ts
 * const rows = await readIdxRows({ images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz', split: 'test' });
 * ```
 * @param options - the two files and the split, source, class names and id prefix.
 * @returns the decoded rows, images HWC uint8.
 * @throws IoError from {@link readIdx} naming the file; DataError when the images file is not 3- or
 *   4-dimensional, the labels file not 1-dimensional, the counts differ (naming both files), there are
 *   no items, or a label is out of range of the class names.
 * @see importIdx
 */
export async function readIdxRows(options: IdxRowsOptions): Promise<ImageRows> {
  const [images, labels] = await Promise.all([readIdx(options.images), readIdx(options.labels)]);
  const shape = imageShapeOf(images.dims, options.images);
  if (labels.dims.length !== 1) {
    throw new DataError(
      ErrorCode.BadLabel,
      `labels IDX file has dimensions ${labels.dims.join('×')}; expected one dimension (one label per item)`,
      { location: { file: options.labels } },
    );
  }
  const n = images.dims[0] as number;
  const nLabels = labels.dims[0] as number;
  if (n !== nLabels) {
    throw new DataError(
      ErrorCode.SchemaMismatch,
      `images file ${options.images} has ${n} items but labels file ${options.labels} has ${nLabels}; they must match one to one`,
    );
  }
  if (n === 0) {
    throw new DataError(ErrorCode.EmptyDataset, 'IDX images file has no items', {
      location: { file: options.images },
    });
  }
  const numClasses = options.classNames?.length;
  if (numClasses !== undefined) {
    const bad = labels.data.findIndex((l) => l >= numClasses);
    if (bad >= 0) {
      throw new DataError(
        ErrorCode.BadLabel,
        `label ${labels.data[bad]} is out of range: there are ${numClasses} classes (0-${numClasses - 1})`,
        { location: { file: options.labels, row: bad } },
      );
    }
  }
  const prefix = options.idPrefix ?? options.split;
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = `${prefix}-${String(i).padStart(5, '0')}`;
  return {
    images: images.data,
    labels: Int32Array.from(labels.data),
    shape,
    ids,
    split: options.split,
    source: options.source ?? basename(options.images),
    classNames: options.classNames,
  };
}

/**
 * Imports an images/labels pair of IDX files (MNIST, Fashion-MNIST, KMNIST, ...) as one Parquet file of
 * raw image bytes.
 *
 * <span class="informal">Reads both files (gzip or plain), checks them against each other and writes
 * `id, image, label, split, source` atomically.</span>
 *
 * @example
 * ```ts
 * const r = await importIdx({ images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz',
 *   out: 'data/train.parquet', split: 'train' });
 * // r.rows === 60000, ids 'train-00000' ... 'train-59999'
 * ```
 * @param options - the two files, the output file, and the split, source, class names and id prefix.
 * @returns the written file's path, row count, shape and class counts.
 * @throws IoError or DataError as {@link readIdxRows}; IoError (WriteFailed) naming the output.
 * @see readIdxRows
 */
export async function importIdx(options: ImportIdxOptions): Promise<ImportResult> {
  return writeImageRows(options.out, await readIdxRows(options));
}

function imageShapeOf(dims: readonly number[], file: string): ImageShape {
  const [, height, width, channels = 1] = dims;
  if ((dims.length !== 3 && dims.length !== 4) || !height || !width || !channels) {
    throw new DataError(
      ErrorCode.BadImage,
      `images IDX file has dimensions ${dims.join('×')}; expected items×height×width or items×height×width×channels, all non-zero`,
      { location: { file } },
    );
  }
  return { height, width, channels };
}
