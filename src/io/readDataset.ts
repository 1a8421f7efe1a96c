import {
  Field,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { defer, from, type Observable } from 'rxjs';
import type { DataFile } from './dataFile.js';
import { listDataFiles } from './listDataFiles.js';
import { readArrowBatches } from './readArrowBatches.js';
import { readParquetBatches } from './readParquetBatches.js';

/** A record batch and where its rows came from. */
export interface SourceBatch {
  readonly batch: RecordBatch;
  readonly file: DataFile;
  /** Row index, within `file`, of the batch's first row. */
  readonly rowOffset: number;
}

/**
 * Reads every batch of one data file, with partition values of hive-style folders added as string
 * columns (unless the file already has a column of that name, which wins, as in pyarrow).
 */
export async function* readFileBatches(file: DataFile): AsyncGenerator<SourceBatch> {
  const batches =
    file.format === 'parquet'
      ? readParquetBatches(file.path, file.path)
      : readArrowBatches(file.path, file.path);
  let rowOffset = 0;
  for await (const raw of batches) {
    const batch = withPartitionColumns(raw, file.partition);
    yield { batch, file, rowOffset };
    rowOffset += batch.numRows;
  }
}

/**
 * Pull-based reading of a dataset (a file or a folder of files), one batch at a time. Consumers that
 * do asynchronous work per batch should prefer this to {@link readDataset}: the next row group is only
 * decoded when they ask for it.
 */
export async function* iterateDataset(input: string | readonly DataFile[]): AsyncGenerator<SourceBatch> {
  const files = typeof input === 'string' ? await listDataFiles(input) : input;
  for (const file of files) yield* readFileBatches(file);
}

/**
 * The read stage: a dataset as a cold Observable of record batches, streamed row group by row group.
 *
 * <span class="informal">Each subscription reads the files again, so re-subscribing is how a
 * training loop runs another epoch over data larger than memory.</span>
 *
 * ```text
 * readDataset('train/')  --b0--b1--b2--|    (one value per row group, files in sorted order)
 * ```
 *
 * Memory stays bounded by a few row groups when subscribers handle each batch synchronously; a
 * subscriber that starts asynchronous work per batch should use {@link iterateDataset} instead, since
 * Observables have no back-pressure.
 *
 * @example
 * ```ts
 * readDataset('data/train.parquet').subscribe(({ batch, file }) => console.log(file.relPath, batch.numRows));
 * ```
 * @param input - a Parquet/Arrow file, or a folder of them (hive `key=value/` folders allowed).
 * @returns an Observable of {@link SourceBatch}; errors are {@link IoError}s naming the file.
 * @see iterateDataset
 */
export function readDataset(input: string | readonly DataFile[]): Observable<SourceBatch> {
  return defer(() => from(iterateDataset(input)));
}

function withPartitionColumns(batch: RecordBatch, partition: Readonly<Record<string, string>>): RecordBatch {
  const keys = Object.keys(partition).filter((k) => batch.schema.fields.every((f) => f.name !== k));
  if (keys.length === 0) return batch;
  const fields: Field[] = [...batch.schema.fields];
  const children = [...batch.data.children];
  for (const key of keys) {
    const value = partition[key] as string;
    const vector: Vector<Utf8> = vectorFromArray(new Array<string>(batch.numRows).fill(value), new Utf8());
    fields.push(new Field(key, new Utf8(), false));
    children.push(vector.data[0] as (typeof children)[number]);
  }
  const schema = new Schema(fields, batch.schema.metadata);
  const data = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(schema, data);
}
