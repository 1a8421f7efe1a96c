/**
 * Shared builders of the poisoning tests: small labelled image datasets written to Parquet in every
 * image layout the data plane reads, and readers that give back each output row's columns and pixels
 * for comparing with the input row by row.
 */
import { readdir } from 'node:fs/promises';
import {
  Binary,
  type Data,
  Field,
  Float64,
  List,
  makeData,
  type RecordBatch,
  Struct,
  Table,
  Uint8,
  Utf8,
  type Vector,
} from 'apache-arrow';
import { encode as encodePng } from 'fast-png';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { iterateDataset } from '../../../src/io/readDataset.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import {
  batchOf,
  binaries,
  int32s,
  nestedUint8List,
  readExamples,
  rowsOf,
  strings,
} from '../../helpers/arrow.js';
import { md5Image } from '../../helpers/images.js';

/** The image layouts a test dataset can be written in (see `ImageEncoding` in src/data/inferColumns.ts). */
export type Layout = 'binary' | 'fixed-size-list' | 'list' | 'png' | 'hf-image';

/** A small labelled dataset held in memory, the reference the poisoned output is checked against. */
export interface SmallDataset {
  readonly shape: ImageShape;
  readonly ids: readonly string[];
  readonly labels: readonly number[];
  /** One H×W×C image per row. */
  readonly images: readonly Uint8Array[];
  /** An extra string column, null on every fifth row, that poisoning must carry over untouched. */
  readonly notes: readonly (string | null)[];
  /** An extra float column, likewise. */
  readonly scores: readonly number[];
}

/**
 * Labels of the standard 40-row test dataset over 4 classes: 10 of each class, in an irregular order
 * (so that no row choice can pass by following a stride). Class 0 has 10 rows, so an all-to-one attack
 * on target 0 has 30 eligible rows.
 */
export const LABELS_40: readonly number[] = [
  0, 1, 2, 3, 1, 1, 0, 2, 3, 3, 2, 0, 1, 3, 2, 2, 0, 1, 0, 3, 1, 2, 0, 3, 0, 2, 1, 3, 2, 0, 1, 0, 3, 2, 3, 1,
  0, 2, 1, 3,
];

/**
 * Builds a dataset with the given labels: row i has id `r<i>`, the MD5-derived image {@link md5Image}
 * (distinct noise per row, so any misplaced pixel shows), a note and a score.
 *
 * @example
 * ```ts
 * const data = smallDataset({ height: 6, width: 6, channels: 1 });
 * ```
 * @param shape - every image's shape.
 * @param labels - one label per row (default {@link LABELS_40}).
 * @returns the dataset.
 */
export function smallDataset(shape: ImageShape, labels: readonly number[] = LABELS_40): SmallDataset {
  const size = shape.height * shape.width * shape.channels;
  return {
    shape,
    ids: labels.map((_, i) => `r${String(i).padStart(2, '0')}`),
    labels: [...labels],
    // Offset by the shape so that datasets of different shapes do not share images.
    images: labels.map((_, i) => md5Image(i + 1000 * (shape.height * 10 + shape.channels), size)),
    notes: labels.map((_, i) => (i % 5 === 4 ? null : `note ${i}`)),
    scores: labels.map((_, i) => i / 8),
  };
}

/**
 * The PNG file of one image, with a text chunk. The chunk makes the bytes differ from what the poisoner
 * would encode for the same pixels, so a test can tell an untouched cell from a re-encoded one.
 *
 * @example
 * ```ts
 * const png = pngOf(pixels, { height: 4, width: 4, channels: 3 });
 * ```
 * @param pixels - H×W×C bytes.
 * @param shape - their shape.
 * @returns the PNG bytes.
 */
export function pngOf(pixels: Uint8Array, shape: ImageShape): Uint8Array {
  return encodePng({
    width: shape.width,
    height: shape.height,
    channels: shape.channels,
    depth: 8,
    data: pixels,
    text: { Comment: 'original' },
  });
}

/** The image column of `data` (rows `from` to `to`) in the given layout. */
function imageColumn(data: SmallDataset, layout: Layout, from: number, to: number): Data | Vector {
  const images = data.images.slice(from, to);
  const rows = images.length;
  const size = data.shape.height * data.shape.width * data.shape.channels;
  const flat = new Uint8Array(rows * size);
  images.forEach((img, i) => {
    flat.set(img, i * size);
  });
  switch (layout) {
    case 'binary':
      return binaries(images);
    case 'fixed-size-list':
      return nestedUint8List([data.shape.height, data.shape.width, data.shape.channels], flat, rows);
    case 'list':
      return makeData({
        type: new List(new Field('item', new Uint8(), false)),
        length: rows,
        nullCount: 0,
        valueOffsets: Int32Array.from({ length: rows + 1 }, (_, i) => i * size),
        child: makeData({ type: new Uint8(), length: flat.length, nullCount: 0, data: flat }),
      });
    case 'png':
      return binaries(images.map((img) => pngOf(img, data.shape)));
    case 'hf-image': {
      const bytes = binaries(images.map((img) => pngOf(img, data.shape))).data[0] as Data;
      const paths = strings(images.map((_, i) => `img-${from + i}.png`)).data[0] as Data;
      const fields = [new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)];
      return makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: [bytes, paths] });
    }
  }
}

/**
 * Rows `from` to `to` of a dataset as one record batch with the columns `id, image, label, note, score`:
 * the image and label columns sit between others, so a rewrite that moved them would show.
 *
 * @example
 * ```ts
 * const batch = datasetBatch(data, 'png');
 * ```
 * @param data - the dataset.
 * @param layout - how the image column stores the pixels.
 * @param from - first row.
 * @param to - end row (exclusive).
 * @returns the batch, with the image shape in its metadata for raw layouts.
 */
export function datasetBatch(
  data: SmallDataset,
  layout: Layout,
  from = 0,
  to = data.labels.length,
): RecordBatch {
  const { height, width, channels } = data.shape;
  return batchOf(
    {
      id: strings(data.ids.slice(from, to)),
      image: imageColumn(data, layout, from, to),
      label: int32s(data.labels.slice(from, to)),
      note: strings(data.notes.slice(from, to)),
      score: makeData({
        type: new Float64(),
        length: to - from,
        nullCount: 0,
        data: Float64Array.from(data.scores.slice(from, to)),
      }),
    },
    layout === 'binary' || layout === 'list'
      ? { 'abl_audit.image_shape': `${height},${width},${channels}` }
      : {},
  );
}

/**
 * Writes a dataset to one Parquet file in row groups of 16, so that a 40-row dataset arrives in three
 * batches and row positions must be counted across batches.
 *
 * @example
 * ```ts
 * await writeDataset(join(dir, 'in.parquet'), data, 'binary');
 * ```
 * @param path - the file to write.
 * @param data - the dataset.
 * @param layout - the image layout.
 * @returns the path.
 */
export async function writeDataset(
  path: string,
  data: SmallDataset,
  layout: Layout = 'binary',
): Promise<string> {
  await writeParquet(path, [datasetBatch(data, layout)], { rowGroupSize: 16 });
  return path;
}

/** One output file read back: every column as plain values, and the decoded pixels of each row. */
export interface OutputRows {
  /** The output's Arrow table, to check schema and types. */
  readonly table: Table;
  readonly ids: string[];
  readonly labels: number[];
  readonly labelOriginal: number[];
  readonly poisoned: boolean[];
  readonly attack: (string | null)[];
  readonly notes: (string | null)[];
  readonly scores: number[];
  /** Pixels as the library's decode stage reads them, one array per row. */
  readonly images: Uint8Array[];
}

/** A file read back: its Arrow table, its columns by name, and its decoded pixels. */
export interface TableRows {
  readonly table: Table;
  /** Pixels as the library's decode stage reads them, one array per row. */
  readonly images: Uint8Array[];
  /** A column's values (null for null cells); throws when the file has no such column. */
  column<T>(name: string): T[];
}

/**
 * Reads any data file back with the library's reader (for exact Arrow types) and decoder (for pixels).
 *
 * @example
 * ```ts
 * const { column } = await readTable(path);
 * column<number>('label');
 * ```
 * @param path - the file.
 * @returns its table, columns and pixels.
 */
export async function readTable(path: string): Promise<TableRows> {
  const batches: RecordBatch[] = [];
  for await (const sb of iterateDataset(path)) batches.push(sb.batch);
  const table = new Table(batches);
  return {
    table,
    images: rowsOf(await readExamples(path)).images,
    column<T>(name: string): T[] {
      const vector = table.getChild(name);
      if (!vector) throw new Error(`${path} has no column '${name}'`);
      return Array.from(vector as Iterable<T>);
    },
  };
}

/**
 * Reads a poisoned copy of a {@link SmallDataset} back, every column as plain values.
 *
 * @example
 * ```ts
 * const out = await readOutput(join(dir, 'out.parquet'));
 * expect(out.poisoned.filter(Boolean)).toHaveLength(3);
 * ```
 * @param path - the output file.
 * @returns its rows.
 */
export async function readOutput(path: string): Promise<OutputRows> {
  const { table, images, column } = await readTable(path);
  return {
    table,
    ids: column<string>('id'),
    labels: column<number>('label'),
    labelOriginal: column<number>('label_original'),
    poisoned: column<boolean>('poisoned'),
    attack: column<string | null>('attack'),
    notes: column<string | null>('note'),
    scores: column<number>('score'),
    images,
  };
}

/**
 * Every name in a folder, hidden ones included, so that a leftover `.x.parquet.tmp-…` file shows.
 *
 * @example
 * ```ts
 * expect(await namesIn(dir)).toEqual([]);
 * ```
 * @param dir - the folder.
 * @returns the sorted names, or none when the folder does not exist.
 */
export async function namesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/**
 * The image with the BadNets grid `[[255,0,255],[0,255,0],[255,0,255]]` pasted in its bottom-right
 * corner in every channel: the expected pixels, built from the attack's definition rather than from the
 * code under test.
 *
 * @example
 * ```ts
 * expect(out.images[i]).toEqual(withGrid(data.images[i], data.shape));
 * ```
 * @param image - the clean image.
 * @param shape - its shape.
 * @returns a new array.
 */
export function withGrid(image: Uint8Array, shape: ImageShape): Uint8Array {
  const grid = [255, 0, 255, 0, 255, 0, 255, 0, 255];
  const out = image.slice();
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) {
      const at = ((shape.height - 3 + y) * shape.width + (shape.width - 3 + x)) * shape.channels;
      out.fill(grid[y * 3 + x] as number, at, at + shape.channels);
    }
  }
  return out;
}

/**
 * Indices of the rows for which `test` holds.
 *
 * @example
 * ```ts
 * rowsWhere(out.poisoned, (p) => p); // the poisoned rows
 * ```
 * @param values - one value per row.
 * @param test - the condition.
 * @returns ascending row indices.
 */
export function rowsWhere<T>(values: readonly T[], test: (value: T, row: number) => boolean): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (test(v, i)) out.push(i);
  });
  return out;
}
