import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, ErrorCode, IoError } from '../../errors.js';
import { failpoint } from '../../util/failpoint.js';
import { writeFileAtomically } from '../atomicWrite.js';

/** The journal of a commit in progress: its presence means outputs are being swapped. */
export const JOURNAL_FILE = '.abl-commit.json';

/** What a run's outputs are, for {@link commitOutputs}. */
export interface OutputSet {
  /** Every name a run may write at the folder's top level (the previous run's are moved away). */
  readonly managed: readonly string[];
  /** The file that marks a complete run: moved out first and in last, so it never sits beside a mix. */
  readonly keystone: string;
}

interface Journal {
  readonly staging: string;
  readonly previous: string;
  readonly entries: readonly string[];
  readonly managed: readonly string[];
  readonly keystone: string;
}

/**
 * Commits a run's outputs, staged complete in `folder/staging`, as one unit: the previous run's
 * outputs are moved aside (keystone first), the new ones moved in (keystone last), and the previous
 * ones deleted.
 *
 * <span class="informal">A journal written before the first move lets {@link recoverCommit} finish an
 * interrupted commit: since the staging folder was complete, finishing it always yields the whole new
 * run. Whenever the keystone (report.json) exists, the outputs beside it are the ones it describes.
 * Names the run does not manage (a user's own files) are never touched.</span>
 *
 * @param folder - the output folder.
 * @param staging - the staging folder's name inside it.
 * @param outputs - the names runs write, and the keystone.
 * @throws IoError ABL104 when a move fails (the journal stays, for recovery).
 */
export async function commitOutputs(folder: string, staging: string, outputs: OutputSet): Promise<void> {
  const entries = (await readdir(join(folder, staging))).sort(keystoneLast(outputs.keystone));
  const journal: Journal = {
    staging,
    previous: staging.replace(/^\.abl-staging-/, '.abl-previous-'),
    entries,
    managed: [...outputs.managed],
    keystone: outputs.keystone,
  };
  await writeFileAtomically(join(folder, JOURNAL_FILE), JSON.stringify(journal));
  await finish(folder, journal);
}

/**
 * Finishes a commit a killed run left half done, if there is one (a journal in `folder`).
 *
 * @param folder - the output folder.
 * @returns whether there was one to finish.
 * @throws IoError when the journal is unreadable or a move fails.
 */
export async function recoverCommit(folder: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(folder, JOURNAL_FILE), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw commitError(folder, cause);
  }
  let journal: Journal;
  try {
    journal = JSON.parse(text) as Journal;
  } catch (cause) {
    throw new IoError(ErrorCode.CorruptFile, `the commit journal is damaged: ${describeError(cause)}`, {
      cause,
      location: { file: join(folder, JOURNAL_FILE) },
    });
  }
  await finish(folder, journal);
  return true;
}

/** The moves of a commit, each skipped when already done: running it twice is running it once. */
async function finish(folder: string, journal: Journal): Promise<void> {
  const at = (...parts: string[]) => join(folder, ...parts);
  try {
    await mkdir(at(journal.previous), { recursive: true });
    const incoming = new Set(journal.entries);
    // Away: the old keystone first, then every managed name not already replaced by the new run.
    for (const name of [...journal.managed].sort(keystoneFirst(journal.keystone))) {
      const stagedStill = await exists(at(journal.staging, name));
      if (incoming.has(name) && !stagedStill) continue; // already the new run's
      if (await exists(at(name))) await rename(at(name), at(journal.previous, name));
      failpoint('commit-move');
    }
    // In: the new outputs, keystone last.
    for (const name of journal.entries) {
      if (await exists(at(journal.staging, name))) await rename(at(journal.staging, name), at(name));
      failpoint('commit-move');
    }
  } catch (cause) {
    throw commitError(folder, cause);
  }
  await rm(at(JOURNAL_FILE), { force: true });
  await rm(at(journal.previous), { recursive: true, force: true });
  await rm(at(journal.staging), { recursive: true, force: true });
}

function keystoneLast(keystone: string): (a: string, b: string) => number {
  return (a, b) => Number(a === keystone) - Number(b === keystone) || a.localeCompare(b);
}

function keystoneFirst(keystone: string): (a: string, b: string) => number {
  return (a, b) => Number(b === keystone) - Number(a === keystone) || a.localeCompare(b);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function commitError(folder: string, cause: unknown): IoError {
  return new IoError(
    ErrorCode.WriteFailed,
    `cannot move the run's outputs into place: ${describeError(cause)}; the next run or --resume finishes the move`,
    { cause, location: { file: folder } },
  );
}
