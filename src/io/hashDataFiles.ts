import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { listDataFiles } from './listDataFiles.js';

/** A data file as a report records it. */
export interface HashedFile {
  readonly path: string;
  readonly bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

/**
 * SHA-256 of every data file of an input (a file or a folder of partitions), streamed, in reading
 * order: what a report records so a run can be tied to the exact bytes it audited.
 *
 * @param input - a data file or folder.
 * @returns one entry per data file.
 * @throws IoError when a file cannot be read.
 */
export async function hashDataFiles(input: string): Promise<HashedFile[]> {
  const files = await listDataFiles(input);
  const out: HashedFile[] = [];
  for (const file of files) {
    try {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
      out.push({ path: file.path, bytes: (await stat(file.path)).size, sha256: hash.digest('hex') });
    } catch (cause) {
      throw new IoError(ErrorCode.FileNotFound, `cannot read: ${describeError(cause)}`, {
        cause,
        location: { file: file.path },
      });
    }
  }
  return out;
}
