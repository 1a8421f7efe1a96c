import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describeError, ErrorCode, IoError, UsageError } from '../../errors.js';
import { writeFileAtomically } from '../atomicWrite.js';
import { commitOutputs, JOURNAL_FILE, type OutputSet, recoverCommit } from './commitOutputs.js';
import { LOCK_FILE, lockOutput } from './outputLock.js';
import { type PreflightOptions, preflightOutput } from './preflightOutput.js';

/** The file that marks a folder as an abl-audit output folder. */
export const MARKER_FILE = '.abl-audit-output.json';

/** Options of {@link openOutputFolder}. */
export interface OutputFolderOptions extends PreflightOptions, OutputSet {
  /** What this run does (shown to whoever finds the folder locked), e.g. `abl-audit audit`. */
  readonly command: string;
  /** Write into a folder that holds files abl-audit did not write (they are kept unless managed). */
  readonly force?: boolean;
  /** Names the run keeps between runs and never stages (checkpoints), besides its own bookkeeping. */
  readonly keep?: readonly string[];
}

/** An output folder opened for one run; see {@link openOutputFolder}. */
export interface OutputFolder {
  /** The folder, as given. */
  readonly path: string;
  /** Where the run writes its outputs until {@link OutputFolder.commit}. */
  readonly staging: string;
  /** Whether the folder held files abl-audit did not write (only with `force`). */
  readonly forced: boolean;
  /** Moves the staged outputs into place as one unit (see `commitOutputs`). */
  commit(): Promise<void>;
  /** Drops what was staged and not committed, and gives up the lock. Safe to call twice. */
  release(): Promise<void>;
}

/** Names of the folder's own bookkeeping, never the user's. */
const OWN = new Set([MARKER_FILE, LOCK_FILE, JOURNAL_FILE]);
/** Temporary and leftover names: staging and previous runs' folders, stale locks, and `.x.tmp-…` files. */
const LEFTOVER = /^\.(abl-staging-|abl-previous-|abl-audit\.lock\.(stale|new)-)|^\..+\.tmp-\d+-[0-9a-f]{8}$/;

/**
 * Opens an output folder that abl-audit owns, for one run: checks it before any work, creates it with
 * a marker, refuses a non-empty folder it did not create (unless `force`), takes its exclusive lock,
 * finishes a commit a killed run left half done, removes a killed run's leftovers, and gives the run a
 * fresh staging folder. The folder always holds one complete run's outputs or the previous run's.
 *
 * @example
 * ```ts
 * const folder = await openOutputFolder('out/audit', { inputs: [train], command: 'abl-audit audit',
 *   managed: ['quarantine', 'clean', 'report.json'], keystone: 'report.json' });
 * try { await write(folder.staging); await folder.commit(); } finally { await folder.release(); }
 * ```
 * @param out - the output folder.
 * @param options - inputs, size estimate, managed names, command and force.
 * @returns the opened folder.
 * @throws UsageError ABL303–ABL305 (not ours, overlaps an input, a file); IoError ABL104, ABL106, ABL107.
 */
export async function openOutputFolder(out: string, options: OutputFolderOptions): Promise<OutputFolder> {
  await preflightOutput(out, options);
  const created = !(await isFolder(out));
  try {
    await makeFolder(out);
  } catch (cause) {
    throw new IoError(ErrorCode.WriteFailed, `cannot create the output folder: ${describeError(cause)}`, {
      cause,
      location: { file: out },
    });
  }
  const forced = await claim(out, options);
  const lock = await lockOutput(out, options.command);
  try {
    await recoverCommit(out);
    await removeLeftovers(out);
    const stagingName = `.abl-staging-${process.pid}-${randomBytes(4).toString('hex')}`;
    const staging = join(out, stagingName);
    await mkdir(staging);
    let released = false;
    let committed = false;
    return {
      path: out,
      staging,
      forced,
      async commit() {
        await commitOutputs(out, stagingName, options);
        committed = true;
      },
      async release() {
        if (released) return;
        released = true;
        await rm(staging, { recursive: true, force: true });
        await lock.release();
        // A folder this run created and left nothing in (it failed before any checkpoint): gone again.
        if (created && !committed) await removeIfOnlyOwn(out);
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * Makes sure the folder is abl-audit's: marked, empty, or an earlier version's audit (its keystone or
 * checkpoints present, nothing else but what audits write); otherwise refused unless `force`. Marks it.
 *
 * @returns whether it held someone else's files (and `force` let the run go on).
 */
async function claim(out: string, options: OutputFolderOptions): Promise<boolean> {
  const entries = await readdir(out);
  if (entries.includes(MARKER_FILE)) {
    await checkMarker(out);
    return false;
  }
  const known = new Set([...options.managed, ...(options.keep ?? []), ...OWN]);
  const ownRun = entries.includes(options.keystone) || (options.keep ?? []).some((k) => entries.includes(k));
  // A folder of the names an audit writes is still not ours without a run's keystone or checkpoints:
  // a user's own quarantine/ must never be replaced unasked.
  const foreign = entries.filter((e) => (ownRun ? !known.has(e) : !OWN.has(e)) && !LEFTOVER.test(e));
  if (foreign.length > 0 && !options.force) {
    const shown =
      foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '');
    throw new UsageError(
      `the output folder holds files abl-audit did not write (${shown}); give an empty or new folder, or --force to write beside them (what an audit writes, such as quarantine/ and clean/, is then replaced)`,
      { code: ErrorCode.OutputNotOwned, location: { file: out } },
    );
  }
  await writeFileAtomically(
    join(out, MARKER_FILE),
    `${JSON.stringify({ tool: 'abl-audit', purpose: 'audit outputs', createdAt: new Date().toISOString() })}\n`,
  );
  return foreign.length > 0;
}

async function checkMarker(out: string): Promise<void> {
  try {
    const marker = JSON.parse(await readFile(join(out, MARKER_FILE), 'utf8')) as { tool?: unknown };
    if (marker.tool === 'abl-audit') return;
  } catch {
    // Falls through to the error below: a marker that is not ours is not a marker.
  }
  throw new UsageError(`${MARKER_FILE} in the output folder is not abl-audit's; choose another folder`, {
    code: ErrorCode.OutputNotOwned,
    location: { file: out },
  });
}

/**
 * Creates a folder and its missing parents one level at a time. (Node 20's recursive mkdir never
 * returns on some pseudo file systems, such as /proc; one level at a time fails at once there.)
 */
async function makeFolder(path: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(path);
  while (!(await isFolder(current))) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing) {
    await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function removeIfOnlyOwn(out: string): Promise<void> {
  const entries = await readdir(out).catch(() => null);
  if (entries?.every((e) => OWN.has(e))) await rm(out, { recursive: true, force: true });
}

/** Removes what killed runs left: staging folders, half-moved previous outputs, temporary files. */
async function removeLeftovers(out: string): Promise<void> {
  for (const entry of await readdir(out)) {
    if (LEFTOVER.test(entry)) await rm(join(out, entry), { recursive: true, force: true });
  }
}
