import { type FileHandle, open } from 'node:fs/promises';
import { type RecordBatch, RecordBatchReader } from 'apache-arrow';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { checkArrowIpc } from './checkArrowIpc.js';

/**
 * Reads an Arrow IPC file or stream batch by batch, so memory follows the largest batch, not the file.
 *
 * The reader is given a file handle rather than a read stream: from a stream, arrow-js reads a file-format
 * (`.arrow`) file whole before the first batch, since it cannot seek to the footer; from a handle it
 * reads the footer and then one batch at a time.
 *
 * @param path - the `.arrow`/`.feather` (file format) or `.arrows` (stream format) file.
 * @param shownPath - the name to put in error messages (defaults to `path`).
 * @throws IoError (CorruptFile) naming the file when the bytes do not decode.
 */
export async function* readArrowBatches(path: string, shownPath: string = path): AsyncGenerator<RecordBatch> {
  let index = 0;
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    await checkArrowIpc(fh);
    const reader = await RecordBatchReader.from(fh);
    for await (const batch of reader) {
      yield batch;
      index++;
    }
  } catch (cause) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `cannot decode Arrow IPC batch ${index}: ${describeError(cause)}`,
      {
        cause,
        location: { file: shownPath },
      },
    );
  } finally {
    // The reader closes the handle when it finishes; closing again is harmless and covers early exits.
    await fh?.close().catch(() => undefined);
  }
}
