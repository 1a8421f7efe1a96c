import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeError, ErrorCode, IoError } from '../../errors.js';

/** The lock file of an output folder, held by the run writing into it. */
export const LOCK_FILE = '.abl-audit.lock';

/** Who holds an output folder's lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  /** What the holder is doing, e.g. `abl-audit audit`. */
  readonly command: string;
}

/** A held lock; see {@link lockOutput}. */
export interface OutputLock {
  readonly holder: LockHolder;
  /** Gives the lock up (only if it is still this run's). */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock of an output folder for this process: a second run on the same folder fails
 * at once, naming the holder. A lock left by a process that no longer runs on this host is recovered.
 *
 * <span class="informal">The lock file is written whole under a temporary name and linked into place,
 * so it never exists half-written: `link` fails when the lock exists, atomically, on every local file
 * system. A stale lock is renamed away before the new one is linked, so two runs recovering it at once
 * cannot both win.</span>
 *
 * @param folder - the output folder (it exists).
 * @param command - what this run does, shown to whoever finds the folder locked.
 * @returns the lock.
 * @throws IoError ABL106 when a live process holds it; ABL104 when the lock cannot be written.
 */
export async function lockOutput(folder: string, command: string): Promise<OutputLock> {
  const path = join(folder, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryLink(path, holder)) {
      return { holder, release: () => releaseLock(path, holder) };
    }
    const current = await readHolder(path);
    if (current && !isStale(current)) {
      throw new IoError(
        ErrorCode.OutputLocked,
        `in use by another run: pid ${current.pid} on ${current.host}, started ${current.startedAt} (${current.command}); wait for it to finish, or remove ${LOCK_FILE} if that process no longer runs`,
        { location: { file: folder } },
      );
    }
    // Stale (its process is gone) or unreadable: move it aside; only one recoverer's rename succeeds.
    await rename(path, `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`)
      .then((_) => undefined)
      .catch(() => undefined);
  }
  throw new IoError(
    ErrorCode.OutputLocked,
    'another run took the lock while this one recovered a stale one',
    {
      location: { file: folder },
    },
  );
}

async function tryLink(path: string, holder: LockHolder): Promise<boolean> {
  const tmp = `${path}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, `${JSON.stringify(holder)}\n`);
    await link(tmp, path);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new IoError(
      ErrorCode.WriteFailed,
      `cannot write the output folder's lock: ${describeError(cause)}`,
      {
        cause,
        location: { file: path },
      },
    );
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string'
      ? {
          pid: parsed.pid,
          host: parsed.host,
          startedAt: String(parsed.startedAt ?? '?'),
          command: String(parsed.command ?? '?'),
        }
      : null;
  } catch {
    // Gone in between, or not a lock of ours: either way nobody can be shown as its holder.
    return null;
  }
}

/** A holder on this host whose process no longer exists. Another host's lock is never taken over. */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function releaseLock(path: string, holder: LockHolder): Promise<void> {
  const current = await readHolder(path);
  if (current && current.pid === holder.pid && current.startedAt === holder.startedAt) {
    await unlink(path).catch(() => undefined);
  }
}
