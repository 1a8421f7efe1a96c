import { createReadStream } from 'node:fs';
import { type RecordBatch, RecordBatchReader } from 'apache-arrow';
import { describeError, ErrorCode, IoError } from '../errors.js';

/**
 * Reads an Arrow IPC file or stream batch by batch from a Node read stream, so memory follows the
 * largest batch, not the file.
 *
 * @param path - the `.arrow`/`.feather` (file format) or `.arrows` (stream format) file.
 * @param shownPath - the name to put in error messages (defaults to `path`).
 * @throws IoError (CorruptFile) naming the file when the bytes do not decode.
 */
export async function* readArrowBatches(path: string, shownPath: string = path): AsyncGenerator<RecordBatch> {
  let index = 0;
  try {
    const reader = await RecordBatchReader.from(createReadStream(path));
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
  }
}
