import {
  Binary,
  type Data,
  type DataType,
  Field,
  FixedSizeList,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Uint8,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { lastValueFrom, type Observable, of, toArray } from 'rxjs';
import { type DecodeExamplesOptions, decodeExamples } from '../../src/data/decodeExamples.js';
import type { ExampleBatch } from '../../src/data/exampleBatch.js';
import type { DataFile } from '../../src/io/dataFile.js';
import { readDataset, type SourceBatch } from '../../src/io/readDataset.js';

/**
 * Builds a record batch from named columns, in the order given, with optional schema metadata.
 *
 * @example
 * ```ts
 * const batch = batchOf({ label: int32s([0, 1]), image: binaries([a, b]) }, { 'abl_audit.image_shape': '2,2,1' });
 * ```
 * @param columns - column name → data (vectors are taken by their single chunk).
 * @param metadata - schema key-value metadata.
 * @returns the batch.
 */
export function batchOf(
  columns: Readonly<Record<string, Data | Vector>>,
  metadata: Readonly<Record<string, string>> = {},
): RecordBatch {
  const children: Data[] = Object.values(columns).map((c) => ('data' in c ? (c.data[0] as Data) : c));
  const fields = Object.keys(columns).map((name, i) => new Field(name, (children[i] as Data).type, true));
  const length = children[0]?.length ?? 0;
  const data = makeData({ type: new Struct(fields), length, nullCount: 0, children });
  return new RecordBatch(new Schema(fields, new Map(Object.entries(metadata))), data);
}

/**
 * A binary column of the given cells (null for a null cell).
 *
 * @example
 * ```ts
 * binaries([Uint8Array.of(1, 2), null]);
 * ```
 * @param cells - the cell bytes.
 * @returns the column.
 */
export function binaries(cells: readonly (Uint8Array | null)[]): Vector<Binary> {
  return vectorFromArray([...cells], new Binary());
}

/**
 * An int32 column (null for a null cell).
 *
 * @example
 * ```ts
 * int32s([0, 1, null]);
 * ```
 * @param values - the values.
 * @returns the column.
 */
export function int32s(values: readonly (number | null)[]): Vector<Int32> {
  return vectorFromArray([...values], new Int32());
}

/**
 * A UTF-8 string column.
 *
 * @example
 * ```ts
 * strings(['a', 'b']);
 * ```
 * @param values - the values.
 * @returns the column.
 */
export function strings(values: readonly (string | null)[]): Vector<Utf8> {
  return vectorFromArray([...values], new Utf8());
}

/**
 * A fixed-size-list column nested as `sizes` (e.g. [H, W, C]) over uint8 values laid out row-major.
 *
 * @example
 * ```ts
 * nestedUint8List([2, 2, 3], pixels, rows); // FixedSizeList<2, FixedSizeList<2, FixedSizeList<3, Uint8>>>
 * ```
 * @param sizes - list sizes from the outside in.
 * @param values - `rows × product(sizes)` bytes.
 * @param rows - number of rows.
 * @returns the column data.
 */
export function nestedUint8List(sizes: readonly number[], values: Uint8Array, rows: number): Data {
  let type: DataType = new Uint8();
  for (let i = sizes.length - 1; i >= 0; i--)
    type = new FixedSizeList(sizes[i] as number, new Field('item', type, false));
  return buildFixedSizeList(type, values, rows);
}

function buildFixedSizeList(type: DataType, values: Uint8Array, length: number): Data {
  if (!(type instanceof FixedSizeList)) return makeData({ type: new Uint8(), length, data: values });
  const child = buildFixedSizeList((type.children[0] as Field).type, values, length * type.listSize);
  return makeData({ type, length, child });
}

/**
 * A data file record for batches built in memory (no file behind it).
 *
 * @example
 * ```ts
 * const file = fakeFile('train/part-0.parquet');
 * ```
 * @param relPath - the path relative to the dataset root.
 * @returns the record, with path `/data/<relPath>`.
 */
export function fakeFile(relPath = 'mem.parquet'): DataFile {
  return { path: `/data/${relPath}`, relPath, format: 'parquet', partition: {} };
}

/**
 * Wraps record batches as the read stage would emit them from one file, with running row offsets.
 *
 * @example
 * ```ts
 * sourceOf([batch]).pipe(decodeExamples());
 * ```
 * @param batches - consecutive batches of one file.
 * @param file - the file they claim to come from.
 * @returns a cold Observable of source batches.
 */
export function sourceOf(
  batches: readonly RecordBatch[],
  file: DataFile = fakeFile(),
): Observable<SourceBatch> {
  let rowOffset = 0;
  const out: SourceBatch[] = [];
  for (const batch of batches) {
    out.push({ batch, file, rowOffset });
    rowOffset += batch.numRows;
  }
  return of(...out);
}

/**
 * Decodes in-memory batches and returns every example batch.
 *
 * @example
 * ```ts
 * const [ex] = await decodeAll([batch]);
 * ```
 * @param batches - consecutive batches of one file.
 * @param options - decodeExamples options.
 * @returns the example batches.
 */
export function decodeAll(
  batches: readonly RecordBatch[],
  options: DecodeExamplesOptions = {},
): Promise<ExampleBatch[]> {
  return lastValueFrom(sourceOf(batches).pipe(decodeExamples(options), toArray()));
}

/**
 * Reads and decodes a dataset from disk and returns every example batch.
 *
 * @example
 * ```ts
 * const batches = await readExamples(path);
 * ```
 * @param input - file or folder.
 * @param options - decodeExamples options.
 * @returns the example batches.
 */
export function readExamples(input: string, options: DecodeExamplesOptions = {}): Promise<ExampleBatch[]> {
  return lastValueFrom(readDataset(input).pipe(decodeExamples(options), toArray()));
}

/** All the rows of several example batches, concatenated. */
export interface ExampleRows {
  readonly ids: string[];
  readonly labels: number[];
  /** One array per row. */
  readonly images: Uint8Array[];
}

/**
 * Flattens example batches into per-row arrays, for comparing with expected rows.
 *
 * @example
 * ```ts
 * const { ids, labels, images } = rowsOf(await readExamples(path));
 * ```
 * @param batches - decoded batches.
 * @returns ids, labels and one image per row.
 */
export function rowsOf(batches: readonly ExampleBatch[]): ExampleRows {
  const out: ExampleRows = { ids: [], labels: [], images: [] };
  for (const b of batches) {
    const size = b.shape.height * b.shape.width * b.shape.channels;
    out.ids.push(...b.ids);
    out.labels.push(...b.labels);
    for (let r = 0; r < b.ids.length; r++) out.images.push(b.images.slice(r * size, (r + 1) * size));
  }
  return out;
}
