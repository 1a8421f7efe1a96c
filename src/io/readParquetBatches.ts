import { openAsBlob } from 'node:fs';
import { RecordBatch, Schema, tableFromIPC } from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm/node';
import { describeError, ErrorCode, IoError } from '../errors.js';

/**
 * Reads a Parquet file one row group at a time, as Arrow record batches.
 *
 * The file is opened as a lazily-read Blob, so only the footer and the row group being decoded are in
 * memory: peak memory follows the largest row group, not the file. Decoding is done by arrow-rs
 * (through parquet-wasm), which reads every encoding and codec that pyarrow, Spark and DuckDB write:
 * dictionary pages, snappy, gzip, zstd, lz4, brotli.
 *
 * @param path - the Parquet file.
 * @param shownPath - the name to put in error messages (defaults to `path`).
 * @yields one or more record batches per row group, in file order.
 * @throws IoError (CorruptFile) naming the file and row group when decoding fails.
 */
export async function* readParquetBatches(
  path: string,
  shownPath: string = path,
): AsyncGenerator<RecordBatch> {
  let file: ParquetFile;
  try {
    file = await ParquetFile.fromFile(await openAsBlob(path));
  } catch (cause) {
    throw new IoError(ErrorCode.CorruptFile, `cannot read Parquet footer: ${describeError(cause)}`, {
      cause,
      location: { file: shownPath },
    });
  }
  try {
    const meta = file.metadata();
    const metadata = fileMetadata(file);
    const groups = meta.numRowGroups();
    for (let g = 0; g < groups; g++) {
      const rows = meta.rowGroup(g).numRows();
      if (rows === 0) continue;
      let ipc: Uint8Array;
      try {
        // One batch per row group: batchSize defaults to 1024 rows, which would only add overhead.
        const wasmTable = await file.read({ rowGroups: [g], batchSize: rows });
        ipc = wasmTable.intoIPCStream();
      } catch (cause) {
        throw new IoError(ErrorCode.CorruptFile, `cannot decode row group ${g}: ${describeError(cause)}`, {
          cause,
          location: { file: shownPath },
        });
      }
      for (const batch of tableFromIPC(ipc).batches) {
        // The IPC export drops schema metadata (image shape, class names): put it back.
        yield metadata.size ? new RecordBatch(new Schema(batch.schema.fields, metadata), batch.data) : batch;
      }
    }
  } finally {
    file.free();
  }
}

/**
 * File key-value metadata (as pyarrow and Hugging Face write it) merged with the embedded Arrow
 * schema's metadata, which wins on a clash.
 */
function fileMetadata(file: ParquetFile): Map<string, string> {
  const merged = new Map<string, string>();
  const kv = file.metadata().fileMetadata().keyValueMetadata() as Map<string, string>;
  for (const [k, v] of kv) if (k !== 'ARROW:schema') merged.set(k, v);
  for (const [k, v] of file.schema().metadata() as Map<string, string>) merged.set(k, v);
  return merged;
}
