import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeError, ErrorCode, IoError } from '../errors.js';

/**
 * A temporary name beside `target`, in the same folder so the final rename is atomic on one file system.
 * Readers of a folder skip names containing `.tmp-` (see listDataFiles).
 */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a file so that readers see either nothing or the whole file: the bytes go to a temporary name
 * that is renamed over `target` once complete, and removed if anything fails.
 *
 * @param target - the final path; its folder is created if missing.
 * @param produce - writes the content to the temporary path it is given.
 */
export async function writeAtomically(
  target: string,
  produce: (tmpPath: string) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    await produce(tmp);
    await rename(tmp, target);
  } catch (cause) {
    await rm(tmp, { force: true });
    if (cause instanceof IoError) throw cause;
    throw new IoError(ErrorCode.WriteFailed, `cannot write: ${describeError(cause)}`, {
      cause,
      location: { file: target },
    });
  }
}

/** {@link writeAtomically} for content already in memory (JSON reports, small files). */
export function writeFileAtomically(target: string, content: string | Uint8Array): Promise<void> {
  return writeAtomically(target, (tmp) => writeFile(tmp, content));
}
