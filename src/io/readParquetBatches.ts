import { type FileHandle, open } from 'node:fs/promises';
import { type RecordBatch, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { type ParquetFooter, parseParquetFooter, rowGroupAsFile } from './parquetFooter.js';

/**
 * Reads a Parquet file one row group at a time, as Arrow record batches.
 *
 * Only the footer and the row group being decoded are in memory: peak memory follows the largest row
 * group, not the file. Each row group's bytes are read from disk and decoded on their own (see
 * {@link rowGroupAsFile} for why), by arrow-rs through parquet-wasm, which reads every encoding and
 * codec that pyarrow, Spark and DuckDB write: dictionary pages, snappy, gzip, zstd, lz4, brotli.
 *
 * @param path - the Parquet file.
 * @param shownPath - the name to put in error messages (defaults to `path`).
 * @yields one record batch per non-empty row group, in file order, carrying the file's key-value
 *   metadata (image shape, class names) as schema metadata.
 * @throws IoError (CorruptFile) naming the file, and the row group where one is at fault, when the
 *   footer or a row group does not decode or lies past the end of the file.
 */
export async function* readParquetBatches(
  path: string,
  shownPath: string = path,
): AsyncGenerator<RecordBatch> {
  const corrupt = (message: string, cause?: unknown) =>
    new IoError(ErrorCode.CorruptFile, message, { cause, location: { file: shownPath } });
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new IoError(ErrorCode.FileNotFound, `cannot open: ${describeError(cause)}`, {
      cause,
      location: { file: shownPath },
    });
  }
  try {
    const { footer, dataEnd } = await readFooter(fh).catch((cause: unknown) => {
      throw corrupt(`cannot read Parquet footer: ${describeError(cause)}`, cause);
    });
    // One buffer for every row group's repackaged file: readParquet copies it into WebAssembly memory,
    // so it can be refilled for the next row group, and the largest row group sizes it.
    let scratch: Uint8Array = new Uint8Array(0);
    for (let g = 0; g < footer.rowGroups.length; g++) {
      const extent = footer.rowGroups[g] as ParquetFooter['rowGroups'][number];
      if (extent.numRows === 0) continue;
      if (extent.end > dataEnd) {
        throw corrupt(
          `row group ${g} needs bytes ${extent.start}-${extent.end} but the data ends at byte ${dataEnd}: the file is truncated or corrupt`,
        );
      }
      let ipc: Uint8Array;
      try {
        const { file, body } = rowGroupAsFile(footer, g, scratch);
        if (file.buffer !== scratch.buffer) scratch = file;
        await readExactly(fh, body, extent.start);
        // One batch per row group: batchSize defaults to 1024 rows, which would only add overhead.
        ipc = readParquet(file, { batchSize: extent.numRows }).intoIPCStream();
      } catch (cause) {
        throw corrupt(`cannot decode row group ${g}: ${decoderMessage(cause)}`, cause);
      }
      // arrow-rs puts the file's key-value metadata (minus the embedded Arrow schema) on the schema.
      yield* tableFromIPC(ipc).batches;
    }
  } finally {
    await fh.close();
  }
}

/** Reads and parses the footer; `dataEnd` is where the footer (and so the row groups' room) begins. */
async function readFooter(fh: FileHandle): Promise<{ footer: ParquetFooter; dataEnd: number }> {
  const { size } = await fh.stat();
  if (size < 12) throw new Error(`file has ${size} bytes, fewer than an empty Parquet file`);
  const tail = new Uint8Array(8);
  await readExactly(fh, tail, size - 8);
  if (String.fromCharCode(...tail.subarray(4)) !== 'PAR1') throw new Error('no PAR1 magic at the end');
  const length = new DataView(tail.buffer).getUint32(0, true);
  const dataEnd = size - 8 - length;
  if (dataEnd < 4) throw new Error(`footer length ${length} does not fit in a ${size}-byte file`);
  const bytes = new Uint8Array(length);
  await readExactly(fh, bytes, dataEnd);
  return { footer: parseParquetFooter(bytes), dataEnd };
}

async function readExactly(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    // The size was checked against the footer; a short read means the file shrank while being read.
    if (bytesRead === 0) throw new Error(`file ended at byte ${position + done} while reading`);
    done += bytesRead;
  }
}

/**
 * The decoder's message, or what it means when parquet-wasm's release build has stripped it (its
 * errors then read "External: Error strings stripped", which tells a user nothing).
 */
function decoderMessage(cause: unknown): string {
  const message = describeError(cause);
  return /error strings stripped/i.test(message)
    ? 'its data pages are damaged (the Parquet decoder gives no detail); the file is corrupt, restore or re-export it'
    : message;
}
