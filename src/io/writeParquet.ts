import { writeFile } from 'node:fs/promises';
import { RecordBatch, Schema, Table, tableToIPC } from 'apache-arrow';
import {
  Compression,
  Table as WasmTable,
  type WriterProperties,
  WriterPropertiesBuilder,
  writeParquet as wasmWriteParquet,
} from 'parquet-wasm/node';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { writeAtomically } from './atomicWrite.js';

/** Codecs we write. zstd is the default: smallest files here and read by every engine we tested. */
export type ParquetCodec = 'zstd' | 'snappy' | 'gzip' | 'none';

/** Options of {@link writeParquet}. */
export interface WriteParquetOptions {
  /** Page compression (default `zstd`). */
  codec?: ParquetCodec;
  /** Rows per row group (default 10,000): the unit readers stream by. */
  rowGroupSize?: number;
  /** Extra file key-value metadata (added to any schema metadata the table carries). */
  metadata?: Readonly<Record<string, string>>;
}

const CODECS: Record<ParquetCodec, Compression> = {
  zstd: Compression.ZSTD,
  snappy: Compression.SNAPPY,
  gzip: Compression.GZIP,
  none: Compression.UNCOMPRESSED,
};

/**
 * Encodes Arrow data as Parquet bytes with arrow-rs (through parquet-wasm): every Arrow type, nested
 * structs and lists included, round-trips, and the Arrow schema is embedded for exact reading back.
 */
export function encodeParquet(
  data: Table | readonly RecordBatch[],
  options: WriteParquetOptions = {},
): Uint8Array {
  let table = data instanceof Table ? data : new Table([...data]);
  if (options.metadata) table = withMetadata(table, options.metadata);
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  return wasmWriteParquet(wasmTable, writerProperties(table.schema, options));
}

/**
 * The arrow-rs writer settings for our options. The schema's metadata is also written as plain
 * key-value metadata, for readers that ignore the embedded Arrow schema (DuckDB).
 */
export function writerProperties(schema: Schema, options: WriteParquetOptions = {}): WriterProperties {
  return new WriterPropertiesBuilder()
    .setKeyValueMetadata(new Map(schema.metadata))
    .setCompression(CODECS[options.codec ?? 'zstd'])
    .setMaxRowGroupSize(options.rowGroupSize ?? 10_000)
    .setCreatedBy('abl-audit')
    .build();
}

function withMetadata(table: Table, extra: Readonly<Record<string, string>>): Table {
  const metadata = new Map(table.schema.metadata);
  for (const [k, v] of Object.entries(extra)) metadata.set(k, v);
  const schema = new Schema(table.schema.fields, metadata);
  if (table.batches.length === 0) return new Table(schema);
  return new Table(table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/**
 * Writes Arrow data to a Parquet file atomically: a reader sees the whole file or none (the bytes go to
 * a temporary name, renamed when complete).
 *
 * @param target - the `.parquet` path to create or replace.
 * @param data - a table or its batches (all with one schema).
 * @throws IoError (WriteFailed) naming the file; no partial file is left behind.
 */
export async function writeParquet(
  target: string,
  data: Table | readonly RecordBatch[],
  options: WriteParquetOptions = {},
): Promise<void> {
  await writeAtomically(target, async (tmp) => {
    let bytes: Uint8Array;
    try {
      bytes = encodeParquet(data, options);
    } catch (cause) {
      throw new IoError(ErrorCode.WriteFailed, `cannot encode Parquet: ${describeError(cause)}`, {
        cause,
        location: { file: target },
      });
    }
    await writeFile(tmp, bytes);
  });
}
