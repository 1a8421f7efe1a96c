import { open } from 'node:fs/promises';
import { ErrorCode, IoError } from '../errors.js';
import type { DataFormat } from './dataFile.js';

const PARQUET_MAGIC = 'PAR1';
const ARROW_FILE_MAGIC = 'ARROW1';

/**
 * Tells a file's format from its first and last bytes rather than its name, so a mislabelled file gets
 * a clear error instead of a decoder crash.
 *
 * @returns the format, or `null` when the bytes are none of the formats we read.
 */
export async function sniffFormat(path: string): Promise<DataFormat | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 8) return null;
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    if (head.toString('latin1', 0, 4) === PARQUET_MAGIC) {
      const tail = Buffer.alloc(4);
      await fh.read(tail, 0, 4, size - 4);
      if (tail.toString('latin1') !== PARQUET_MAGIC) {
        throw new IoError(ErrorCode.CorruptFile, 'Parquet file is truncated or corrupt (no PAR1 footer)', {
          location: { file: path },
        });
      }
      return 'parquet';
    }
    if (head.toString('latin1', 0, 6) === ARROW_FILE_MAGIC) return 'arrow-file';
    // An Arrow IPC stream starts with a message: the 0xFFFFFFFF continuation marker (format >= 0.15)
    // followed by the metadata length.
    if (head.readUInt32LE(0) === 0xffffffff) return 'arrow-stream';
    return null;
  } finally {
    await fh.close();
  }
}
