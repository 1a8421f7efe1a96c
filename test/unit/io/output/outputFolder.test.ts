import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import { commitOutputs, JOURNAL_FILE, recoverCommit } from '../../../../src/io/output/commitOutputs.js';
import { MARKER_FILE, openOutputFolder } from '../../../../src/io/output/openOutputFolder.js';
import { LOCK_FILE, lockOutput } from '../../../../src/io/output/outputLock.js';
import { preflightOutput } from '../../../../src/io/output/preflightOutput.js';
import { rejection } from '../../../helpers/errors.js';
import { useTempDir } from '../../../helpers/tempDir.js';

const tmp = useTempDir('output-folder-');
const OUTPUTS = { managed: ['quarantine', 'clean', 'report.json'], keystone: 'report.json' };
const open = (out: string, extra: { force?: boolean; inputs?: string[] } = {}) =>
  openOutputFolder(out, { inputs: [], command: 'test', keep: ['.abl-work'], ...OUTPUTS, ...extra });

async function stageRun(staging: string, tag: string): Promise<void> {
  await mkdir(join(staging, 'quarantine'));
  await writeFile(join(staging, 'quarantine', 'part.parquet'), tag);
  await mkdir(join(staging, 'clean'));
  await writeFile(join(staging, 'report.json'), tag);
}

async function runOnce(out: string, tag: string): Promise<void> {
  const folder = await open(out);
  try {
    await stageRun(folder.staging, tag);
    await folder.commit();
  } finally {
    await folder.release();
  }
}

const visible = async (dir: string) => (await readdir(dir)).filter((e) => !e.startsWith('.')).sort();

describe('openOutputFolder', () => {
  it('creates and marks the folder, stages a run apart, and commits it as one unit', async () => {
    const out = join(tmp.path, 'fresh', 'nested');
    const folder = await open(out);
    expect(await readdir(out)).toEqual(expect.arrayContaining([MARKER_FILE, LOCK_FILE]));
    await stageRun(folder.staging, 'run 1');
    expect(await visible(out)).toEqual([]);
    await folder.commit();
    await folder.release();
    expect(await visible(out)).toEqual(['clean', 'quarantine', 'report.json']);
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('run 1');
    // Only the marker remains of the bookkeeping.
    expect((await readdir(out)).filter((e) => e.startsWith('.'))).toEqual([MARKER_FILE]);
  });

  it('replaces the previous run whole, the user’s own files beside it untouched', async () => {
    const out = join(tmp.path, 'rerun');
    await runOnce(out, 'run 1');
    await writeFile(join(out, 'notes.md'), 'mine');
    await runOnce(out, 'run 2');
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('run 2');
    expect(await readFile(join(out, 'quarantine', 'part.parquet'), 'utf8')).toBe('run 2');
    expect(await readFile(join(out, 'notes.md'), 'utf8')).toBe('mine');
  });

  it('leaves the previous run in place when a run fails before its commit', async () => {
    const out = join(tmp.path, 'failed');
    await runOnce(out, 'run 1');
    const folder = await open(out);
    await stageRun(folder.staging, 'half');
    await folder.release(); // failed: never committed
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('run 1');
    expect((await readdir(out)).some((e) => e.startsWith('.abl-staging-'))).toBe(false);
  });

  it('refuses a non-empty folder it did not create, naming what is there; --force writes beside it', async () => {
    const out = join(tmp.path, 'users');
    await mkdir(join(out, 'quarantine'), { recursive: true });
    await writeFile(join(out, 'quarantine', 'notes.txt'), 'mine');
    const error = await rejection(open(out));
    expect(error.code).toBe(ErrorCode.OutputNotOwned);
    expect(error.message).toContain('quarantine');
    expect(error.location?.file).toBe(out);
    expect(await readdir(out)).toEqual(['quarantine']);
    const forced = await open(out, { force: true });
    expect(forced.forced).toBe(true);
    await forced.release();
  });

  it('adopts the folder of an earlier version’s audit (its report.json, no marker)', async () => {
    const out = join(tmp.path, 'earlier');
    await mkdir(join(out, 'quarantine'), { recursive: true });
    await writeFile(join(out, 'report.json'), '{}');
    const folder = await open(out);
    expect(folder.forced).toBe(false);
    await folder.release();
    expect(await readdir(out)).toContain(MARKER_FILE);
  });

  it('lets one run hold the folder at a time, naming the holder', async () => {
    const out = join(tmp.path, 'busy');
    const first = await open(out);
    const error = await rejection(open(out));
    expect(error.code).toBe(ErrorCode.OutputLocked);
    expect(error.message).toContain(`pid ${process.pid}`);
    await first.release();
    const second = await open(out);
    await second.release();
  });

  it('recovers a lock left by a process that no longer runs', async () => {
    const out = join(tmp.path, 'stale');
    await mkdir(out, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = dead.pid as number;
    await new Promise((r) => dead.once('exit', r));
    await writeFile(
      join(out, LOCK_FILE),
      JSON.stringify({ pid, host: hostname(), startedAt: 'then', command: 'abl-audit audit' }),
    );
    const lock = await lockOutput(out, 'test');
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('never takes over another host’s lock', async () => {
    const out = join(tmp.path, 'remote');
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, LOCK_FILE),
      JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'then', command: 'abl-audit audit' }),
    );
    expect((await rejection(lockOutput(out, 'test'))).code).toBe(ErrorCode.OutputLocked);
  });

  it('removes what a killed run left: staging folders and temporary files', async () => {
    const out = join(tmp.path, 'leftovers');
    await runOnce(out, 'run 1');
    await mkdir(join(out, '.abl-staging-1-deadbeef', 'quarantine'), { recursive: true });
    await writeFile(join(out, '.quarantine.tmp-123-0a1b2c3d'), 'x');
    const folder = await open(out);
    await folder.release();
    expect((await readdir(out)).sort()).toEqual([MARKER_FILE, 'clean', 'quarantine', 'report.json'].sort());
  });
});

describe('commitOutputs / recoverCommit', () => {
  it('finishes a commit interrupted at any move: the new run whole, the old one gone', async () => {
    // Every prefix of the commit's moves, replayed by hand, then recovered.
    for (let movesDone = 0; movesDone <= 6; movesDone++) {
      const out = join(tmp.path, `interrupted-${movesDone}`);
      await runOnce(out, 'old');
      await writeFile(join(out, 'stale-only-in-old'), 'x');
      const staging = '.abl-staging-9-00000000';
      await mkdir(join(out, staging));
      await stageRun(join(out, staging), 'new');
      // A journal as commitOutputs writes it, then some of its moves done.
      const journal = {
        staging,
        previous: '.abl-previous-9-00000000',
        entries: ['clean', 'quarantine', 'report.json'],
        managed: [...OUTPUTS.managed, 'stale-only-in-old'],
        keystone: 'report.json',
      };
      await writeFile(join(out, JOURNAL_FILE), JSON.stringify(journal));
      await mkdir(join(out, journal.previous));
      const { rename } = await import('node:fs/promises');
      const moves: [string, string][] = [
        ['report.json', join(journal.previous, 'report.json')],
        ['clean', join(journal.previous, 'clean')],
        ['quarantine', join(journal.previous, 'quarantine')],
        ['stale-only-in-old', join(journal.previous, 'stale-only-in-old')],
        [join(staging, 'clean'), 'clean'],
        [join(staging, 'quarantine'), 'quarantine'],
      ];
      for (const [from, to] of moves.slice(0, movesDone)) await rename(join(out, from), join(out, to));
      expect(await recoverCommit(out)).toBe(true);
      expect(await visible(out)).toEqual(['clean', 'quarantine', 'report.json']);
      expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('new');
      expect(await readFile(join(out, 'quarantine', 'part.parquet'), 'utf8')).toBe('new');
      expect((await readdir(out)).filter((e) => e.startsWith('.'))).toEqual([MARKER_FILE]);
      expect(await recoverCommit(out)).toBe(false);
    }
  });

  it('moves the keystone out first and in last', async () => {
    const out = join(tmp.path, 'order');
    await runOnce(out, 'old');
    const staging = '.abl-staging-8-00000000';
    await mkdir(join(out, staging));
    await stageRun(join(out, staging), 'new');
    await commitOutputs(out, staging, OUTPUTS);
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('new');
  });
});

describe('preflightOutput', () => {
  it('refuses a file, the input itself, a folder inside the input and one holding it', async () => {
    const data = join(tmp.path, 'data');
    await mkdir(data, { recursive: true });
    const file = join(data, 'train.parquet');
    await writeFile(file, 'x');
    expect((await rejection(preflightOutput(file, { inputs: [] }))).code).toBe(ErrorCode.OutputIsFile);
    const cases: [string, string, string][] = [
      [data, data, 'is the input itself'],
      [join(data, 'out'), data, 'is inside the input'],
      [tmp.path, data, 'holds the input'],
      [data, file, 'holds the input'],
    ];
    for (const [out, input, says] of cases) {
      const error = await rejection(preflightOutput(out, { inputs: [input] }));
      expect(error.code, out).toBe(ErrorCode.OutputOverlapsInput);
      expect(error.message).toContain(says);
      expect(error.location?.file).toBe(out);
    }
    // Beside an input file, in its folder, is fine: nothing of the input is read back or replaced.
    await expect(preflightOutput(join(data, 'out'), { inputs: [file] })).resolves.toBeUndefined();
  });

  it('fails at once where nothing can be written, naming the path', async () => {
    const file = join(tmp.path, 'a-file');
    await writeFile(file, 'x');
    // A folder under a file cannot be created.
    const under = await rejection(preflightOutput(join(file, 'out'), { inputs: [] }));
    expect(under.code).toBe(ErrorCode.WriteFailed);
  });

  it('refuses when the outputs would not fit on the disk', async () => {
    const error = await rejection(
      preflightOutput(join(tmp.path, 'big'), { inputs: [], estimateBytes: Number.MAX_SAFE_INTEGER }),
    );
    expect(error.code).toBe(ErrorCode.DiskFull);
    expect(error.message).toMatch(/MiB needed, .* MiB free/);
  });
});
