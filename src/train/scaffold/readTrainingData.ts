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
 * @param options - `onShape`: called as soon as the image shape is known, before the rest is read
 *   (what refuses images too large to train before gigabytes of them are decoded).
 * @returns the rows and their facts.
 * @throws DataError when the data has no rows, fewer than two classes with rows, or labels that are
 *   not 0..K−1 with every class present (unless the class count is declared); whatever decoding throws.
 */
export async function readTrainingData(
  input: string,
  overrides: ColumnOverrides,
  options: { readonly onShape?: (shape: ImageShape) => void } = {},
): Promise<TrainingData> {
  let columns: DatasetColumns | undefined;
  const data = epochSource(
    () =>
      readDataset(input).pipe(
        decodeExamples({
          ...overrides,
          source: input,
          onColumns: (c) => (columns = c),
          onShape: options.onShape,
        }),
      ),
    { cache: 'auto' },
  );
  const scan = await lastValueFrom(
    data.forEpoch(0).pipe(
      reduce(
        (acc, b) => {
          for (const label of b.labels) acc.perLabel.set(label, (acc.perLabel.get(label) ?? 0) + 1);
          return { ...acc, shape: acc.shape ?? b.shape, rows: acc.rows + b.ids.length };
        },
        { shape: null as ImageShape | null, rows: 0, perLabel: new Map<number, number>() },
      ),
    ),
  );
  if (!scan.shape || !columns) {
    throw new DataError(ErrorCode.EmptyDataset, 'the training data has no rows', {
      location: { file: input },
    });
  }
  const numClasses = classCount(scan.perLabel, columns, overrides, input);
  return { input, data, columns, shape: scan.shape, rows: scan.rows, numClasses, overrides };
}

/**
 * The class count: declared (class names in the data, or `numClasses`), where classes without rows
 * are allowed; otherwise the labels must be exactly 0..K−1, each with rows, since a gap (or a set
 * labelled only 3) is far more often a mistake than four classes of which three are empty. Either
 * way at least two classes must have rows.
 */
function classCount(
  perLabel: ReadonlyMap<number, number>,
  columns: DatasetColumns,
  overrides: ColumnOverrides,
  input: string,
): number {
  const present = [...perLabel.keys()].sort((a, b) => a - b);
  const at = { file: input, column: columns.label };
  if (present.length < 2) {
    throw new DataError(
      ErrorCode.BadLabel,
      `the training data has only one class (label ${present[0]}); training needs at least two`,
      { location: at },
    );
  }
  const declared = overrides.numClasses ?? columns.classNames?.length;
  if (declared !== undefined) return declared;
  const k = (present[present.length - 1] as number) + 1;
  const missing = Array.from({ length: k }, (_, label) => label).filter((label) => !perLabel.has(label));
  if (missing.length > 0) {
    const list = (xs: number[]) =>
      xs.slice(0, 10).join(', ') + (xs.length > 10 ? `, … (${xs.length} in all)` : '');
    throw new DataError(
      ErrorCode.MissingClasses,
      `labels must be 0..K−1 with every class present, but ${list(missing)} ${missing.length === 1 ? 'has' : 'have'} no rows (labels present: ${list(present)}); if the classes are right, declare their count with --num-classes ${k}, or give class names in the file's metadata (abl_audit.class_names)`,
      { location: at },
    );
  }
  return k;
}
