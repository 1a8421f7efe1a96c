import { lastValueFrom, reduce } from 'rxjs';
import { decodeExamples } from '../../data/decodeExamples.js';
import type { ImageShape } from '../../data/imageShape.js';
import type { ColumnOverrides, DatasetColumns } from '../../data/inferColumns.js';
import { DataError, ErrorCode } from '../../errors.js';
import { readDataset } from '../../io/readDataset.js';
import { type EpochSource, epochSource } from '../batches/epochs.js';

/** A training set, read once: its rows one pass per epoch, and what the first pass learned. */
export interface TrainingData {
  /** The file or folder the rows come from. */
  readonly input: string;
  /** The rows, one pass per epoch (cached in memory when they fit). */
  readonly data: EpochSource;
  readonly columns: DatasetColumns;
  readonly shape: ImageShape;
  readonly rows: number;
  /** From the data's class names when it has them, else the largest label + 1. */
  readonly numClasses: number;
  /** The column overrides the rows were decoded with (test sets are decoded the same way). */
  readonly overrides: ColumnOverrides;
}

/**
 * Reads a training set for `train` and the audit alike: one pass learns the image shape, the row
 * count and the classes, and fills the cache when the data fits in memory.
 *
 * @example
 * ```ts
 * const training = await readTrainingData('data/train.parquet', { labelCol: 'y' });
 * training.numClasses; // 10
 * ```
 * @param input - a Parquet/Arrow file or a folder of them.
 * @param overrides - column overrides (`--image-col`, `--label-col`, ...).
 * @returns the rows and their facts.
 * @throws DataError when the data has no rows or fewer than two classes; whatever decoding throws.
 */
export async function readTrainingData(input: string, overrides: ColumnOverrides): Promise<TrainingData> {
  let columns: DatasetColumns | undefined;
  const data = epochSource(
    () =>
      readDataset(input).pipe(
        decodeExamples({ ...overrides, source: input, onColumns: (c) => (columns = c) }),
      ),
    { cache: 'auto' },
  );
  const scan = await lastValueFrom(
    data.forEpoch(0).pipe(
      reduce(
        (acc, b) => ({
          shape: acc.shape ?? b.shape,
          rows: acc.rows + b.ids.length,
          maxLabel: b.labels.reduce((m, l) => Math.max(m, l), acc.maxLabel),
        }),
        { shape: null as ImageShape | null, rows: 0, maxLabel: -1 },
      ),
    ),
  );
  if (!scan.shape || !columns) {
    throw new DataError(ErrorCode.EmptyDataset, 'the training data has no rows', {
      location: { file: input },
    });
  }
  const numClasses = columns.classNames?.length ?? scan.maxLabel + 1;
  if (numClasses < 2) {
    throw new DataError(
      ErrorCode.BadLabel,
      `the training data has only one class (label ${scan.maxLabel}); training needs at least two`,
      { location: { file: input, column: columns.label } },
    );
  }
  return { input, data, columns, shape: scan.shape, rows: scan.rows, numClasses, overrides };
}
