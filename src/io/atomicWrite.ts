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
  const tmp = temporaryPathFor(target);
  try {
    // Inside the try: a parent that is a file (ENOTDIR/EEXIST) or unwritable is a failed write too,
    // reported as an IoError naming the target rather than a bare Node error.
    await mkdir(dirname(target), { recursive: true });
    await produce(tmp);
    await rename(tmp, target);
  } catch (cause) {
    // The write's own failure is what the user must see: a failing cleanup (ENOTDIR when the parent
    // is a file, where no temporary file can exist anyway) must not replace it.
    await rm(tmp, { force: true }).catch(() => undefined);
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
