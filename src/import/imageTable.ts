import { type RecordBatch, Table } from 'apache-arrow';
import {
  CLASS_NAMES_METADATA_KEY,
  formatShape,
  IMAGE_SHAPE_METADATA_KEY,
  type ImageShape,
  imageSize,
} from '../data/imageShape.js';
import { DataError, ErrorCode } from '../errors.js';
import {
  type BatchColumn,
  binaryData,
  column,
  int32Data,
  recordBatchOf,
  utf8Data,
} from '../io/arrowColumns.js';
import { writeParquet } from '../io/writeParquet.js';

/** Rows per record batch and per Parquet row group of an imported dataset: the unit readers stream by. */
export const IMPORT_ROW_GROUP_SIZE = 10_000;

/** Decoded images with their labels and ids: what every importer produces before writing. */
export interface ImageRows {
  /** `ids.length × H × W × C` bytes, row-major HWC uint8. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly shape: ImageShape;
  /** One stable, unique id per row. */
  readonly ids: readonly string[];
  /** The split every row belongs to, e.g. `train` or `test`. */
  readonly split: string;
  /** Where each row came from: one value for all rows, or one per row. */
  readonly source: readonly string[] | string;
  /** Class names, index = label; when given, every label must be below its length. */
  readonly classNames?: readonly string[] | undefined;
}

/**
 * Builds the Arrow table of an imported image dataset: columns `id`, `image` (raw H×W×C bytes), `label`,
 * `split` and `source`, with the image shape and class names in the schema metadata.
 *
 * <span class="informal">The image column points into `images` without copying it: each row's cell is
 * a slice of the same buffer, so building a 60,000-image table costs only the offsets.</span>
 *
 * The `split` column is plain Utf8 rather than an Arrow dictionary: Parquet dictionary-encodes a
 * constant column on disk anyway, and plain strings read the same in every engine.
 *
 * @example
 * ```ts
 * const table = buildImageTable({ images, labels, shape: { height: 28, width: 28, channels: 1 },
 *   ids: ['train-00000'], split: 'train', source: 'fashion-mnist' });
 * ```
 * @param rows - the images and their labels, ids and provenance.
 * @returns a table of one record batch per {@link IMPORT_ROW_GROUP_SIZE} rows.
 * @throws DataError when the arrays disagree in length, an id is empty or repeated, or a label is out of
 *   the range of the class names.
 * @see writeImageDataset
 */
export function buildImageTable(rows: ImageRows): Table {
  checkRows(rows);
  const n = rows.ids.length;
  const metadata = new Map<string, string>([
    [IMAGE_SHAPE_METADATA_KEY, `${rows.shape.height},${rows.shape.width},${rows.shape.channels}`],
  ]);
  if (rows.classNames) metadata.set(CLASS_NAMES_METADATA_KEY, JSON.stringify(rows.classNames));
  // An empty table still has the columns: its schema is that of an empty batch, but it has no batch.
  if (n === 0) return new Table(recordBatchOf(importColumns(rows, 0, 0), metadata).schema);
  const batches: RecordBatch[] = [];
  for (let start = 0; start < n; start += IMPORT_ROW_GROUP_SIZE) {
    const end = Math.min(n, start + IMPORT_ROW_GROUP_SIZE);
    batches.push(recordBatchOf(importColumns(rows, start, end), metadata));
  }
  return new Table(batches);
}

/** The columns of rows `[start, end)`: `id`, `image`, `label`, `split` and `source`. */
function importColumns(rows: ImageRows, start: number, end: number): BatchColumn[] {
  const length = end - start;
  const size = imageSize(rows.shape);
  // Offsets are per batch and start at 0, which also keeps them within Int32 for any dataset size.
  const offsets = new Int32Array(length + 1);
  for (let i = 0; i <= length; i++) offsets[i] = i * size;
  return [
    column('id', utf8Data(rows.ids.slice(start, end))),
    column('image', binaryData(offsets, rows.images.subarray(start * size, end * size))),
    column('label', int32Data(rows.labels.subarray(start, end))),
    column('split', utf8Data(new Array<string>(length).fill(rows.split))),
    column(
      'source',
      utf8Data(
        typeof rows.source === 'string'
          ? new Array<string>(length).fill(rows.source)
          : rows.source.slice(start, end),
      ),
    ),
  ];
}

/**
 * Writes an imported image table as one Parquet file, atomically, zstd-compressed, with row groups of
 * {@link IMPORT_ROW_GROUP_SIZE} rows.
 *
 * <span class="informal">Readers see the whole file or none: a failed write leaves nothing behind.</span>
 *
 * @example
 * ```ts
 * await writeImageDataset('out/train.parquet', buildImageTable(rows));
 * ```
 * @param path - the `.parquet` file to create or replace; its folder is created if missing.
 * @param table - a table from {@link buildImageTable}.
 * @returns when the file is in place.
 * @throws IoError (WriteFailed) naming the file.
 * @see buildImageTable
 */
export function writeImageDataset(path: string, table: Table): Promise<void> {
  return writeParquet(path, table, { rowGroupSize: IMPORT_ROW_GROUP_SIZE, codec: 'zstd' });
}

function checkRows(rows: ImageRows): void {
  const n = rows.ids.length;
  const { shape } = rows;
  const what = `${rows.split} split`;
  if ([shape.height, shape.width, shape.channels].some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new DataError(ErrorCode.BadImage, `${what}: image shape ${formatShape(shape)} is not positive`);
  }
  const size = imageSize(shape);
  if (rows.images.length !== n * size) {
    throw new DataError(
      ErrorCode.BadImage,
      `${what}: ${rows.images.length} image bytes for ${n} ids of shape ${formatShape(shape)} (expected ${n * size})`,
    );
  }
  if (rows.labels.length !== n) {
    throw new DataError(ErrorCode.BadLabel, `${what}: ${rows.labels.length} labels for ${n} ids`);
  }
  if (typeof rows.source !== 'string' && rows.source.length !== n) {
    throw new DataError(ErrorCode.SchemaMismatch, `${what}: ${rows.source.length} sources for ${n} ids`);
  }
  const numClasses = rows.classNames?.length;
  for (let i = 0; i < n; i++) {
    const label = rows.labels[i] as number;
    if (label < 0 || (numClasses !== undefined && label >= numClasses)) {
      throw new DataError(
        ErrorCode.BadLabel,
        `${what}: label ${label} of id '${rows.ids[i]}' is out of range` +
          (numClasses === undefined ? '' : ` (${numClasses} classes: 0-${numClasses - 1})`),
      );
    }
  }
  const seen = new Set<string>();
  for (const id of rows.ids) {
    if (id === '') throw new DataError(ErrorCode.BadId, `${what}: an id is empty`);
    if (seen.has(id)) throw new DataError(ErrorCode.DuplicateId, `${what}: id '${id}' appears twice`);
    seen.add(id);
  }
}
