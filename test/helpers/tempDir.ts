import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A temporary folder owned by one test file; see {@link useTempDir}. */
export interface TempDir {
  /** The folder's absolute path; only valid once the file's `beforeAll` hooks have run. */
  readonly path: string;
  /** A new, empty folder inside {@link TempDir.path}, for a test that needs a dataset folder of its own. */
  sub(name?: string): Promise<string>;
}

/**
 * Gives a test file a fresh temporary folder, created before its tests and removed (with everything in
 * it) after them.
 *
 * <span class="informal">Call at the top level of a test file. Each test file gets its own folder, so
 * files running in parallel forks never see each other's data.</span>
 *
 * @example
 * ```ts
 * const tmp = useTempDir('write-');
 * it('writes', async () => writeParquet(join(tmp.path, 'a.parquet'), table));
 * ```
 * @param prefix - start of the folder name, to tell which test file left it behind if cleanup is skipped.
 * @returns a handle whose `path` is set once `beforeAll` has run.
 * @see TempDir
 */
export function useTempDir(prefix = 'abl-test-'): TempDir {
  let path: string | undefined;
  let count = 0;
  beforeAll(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (path !== undefined) await rm(path, { recursive: true, force: true });
  });
  const root = (): string => {
    if (path === undefined) throw new Error('useTempDir: the folder exists only inside tests and hooks');
    return path;
  };
  return {
    get path() {
      return root();
    },
    async sub(name = 'case') {
      count += 1;
      return mkdtemp(join(root(), `${name}-${count}-`));
    },
  };
}
