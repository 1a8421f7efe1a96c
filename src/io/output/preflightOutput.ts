import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rmdir, stat, statfs } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { describeError, ErrorCode, IoError, UsageError } from '../../errors.js';

/** Options of {@link preflightOutput}. */
export interface PreflightOptions {
  /** The run's inputs (files or folders): the output must not be, hold or sit inside one. */
  readonly inputs: readonly string[];
  /** Bytes the outputs are expected to take; checked against the free space (default: not checked). */
  readonly estimateBytes?: number;
}

/**
 * Checks, before any work, that a run can write its outputs to `out`: the path is not a file, is
 * neither an input nor inside one nor holds one, can be written, and its file system has room for the
 * outputs' estimated size. Creates nothing.
 *
 * @example
 * ```ts
 * await preflightOutput('out/audit', { inputs: ['data/train.parquet'], estimateBytes: 2e8 });
 * ```
 * @param out - the output folder (it may not exist yet).
 * @param options - the inputs and the size estimate.
 * @throws UsageError ABL305 (a file), ABL304 (overlaps an input); IoError ABL104 (cannot be written),
 *   ABL107 (too little free space). Each names the path.
 */
export async function preflightOutput(out: string, options: PreflightOptions): Promise<void> {
  const target = await canonical(out);
  const info = await stat(out).catch(() => null);
  if (info && !info.isDirectory()) {
    throw new UsageError(
      'the output path is a file, not a folder; give a folder (it is created if missing)',
      {
        code: ErrorCode.OutputIsFile,
        location: { file: out },
      },
    );
  }
  for (const input of options.inputs) {
    const source = await canonical(input);
    const overlap =
      source === target
        ? 'is the input itself'
        : isInside(target, source)
          ? `is inside the input ${input}`
          : isInside(source, target)
            ? `holds the input ${input}`
            : null;
    if (overlap) {
      throw new UsageError(
        `the output folder ${overlap}: the run would read its own outputs back or replace its input; choose a folder outside the data`,
        { code: ErrorCode.OutputOverlapsInput, location: { file: out } },
      );
    }
  }
  const existing = await nearestExisting(target);
  try {
    // Permission bits do not tell (root ignores them; a read-only mount does not show in them): make
    // and remove a probe folder where the output will be created.
    const probe = join(existing, `.abl-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(probe);
    await rmdir(probe);
  } catch (cause) {
    throw new IoError(ErrorCode.WriteFailed, `cannot write here: ${describeError(cause)}`, {
      cause,
      location: { file: existing === target ? out : existing },
    });
  }
  if (options.estimateBytes !== undefined) await checkFreeSpace(out, existing, options.estimateBytes);
}

async function checkFreeSpace(out: string, existing: string, needed: number): Promise<void> {
  const fs = await statfs(existing).catch(() => null);
  // No size at all: a pseudo file system (/proc), where the write itself says what is wrong.
  if (!fs || fs.blocks === 0) return;
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new IoError(
      ErrorCode.DiskFull,
      `not enough free space for the outputs: about ${mib(needed)} needed, ${mib(free)} free; free some space or choose another folder`,
      { location: { file: out } },
    );
  }
}

const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;

/** Whether `path` is strictly inside `folder` (both canonical). */
function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The absolute path with symbolic links resolved as far as the path exists. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  const existing = await nearestExisting(absolute);
  const real = await realpath(existing).catch(() => existing);
  return join(real, relative(existing, absolute));
}

/** The path itself if it exists, else its nearest existing ancestor. */
async function nearestExisting(path: string): Promise<string> {
  let current = resolve(path);
  for (;;) {
    if (
      await stat(current).then(
        () => true,
        () => false,
      )
    )
      return current;
    const parent = dirname(current);
    if (parent === current || basename(current) === '') return current;
    current = parent;
  }
}
