import { spawn } from 'node:child_process';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { iterateDataset } from '../../src/io/readDataset.js';
import { FAILPOINT_ENV_VAR } from '../../src/util/failpoint.js';
import { runCli } from '../cli/runCli.js';
import { COMPLETED_AUDIT_FOLDER } from '../helpers/auditFolder.js';
import { useTempDir } from '../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../helpers/tinyPoisonedSet.js';

// An audit killed (SIGKILL, as by `kill -9` or the out-of-memory killer) at each failpoint across the
// run — while checkpointing, after the quarantine is written, before and in the middle of the commit —
// then resumed: the outputs equal an uninterrupted run's (quarantine ids, model weights byte for
// byte), and nothing temporary is left. Tiny data: each run takes a few seconds.
const BIN = resolve('bin/abl-audit.js');
const tmp = useTempDir('kill-anywhere-');
const POINTS = (
  process.env.ABL_KILL_POINTS ??
  'checkpoint-written:1,checkpoint-saved:1,checkpoint-saved:3,quarantine-written:1,before-commit:1,commit-move:1,commit-move:4,commit-move:9'
).split(',');
let train: string;
let args: string[];
let reference: string;

async function quarantineIds(out: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const sb of iterateDataset(join(out, 'quarantine')))
    ids.push(...(sb.batch.getChild('id')?.toArray() ?? []));
  return ids.sort();
}

function runKilled(out: string, point: string, runArgs = args): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [BIN, 'audit', train, '--out', out, ...runArgs], {
    stdio: 'ignore',
    env: { ...process.env, [FAILPOINT_ENV_VAR]: point },
  });
  return new Promise((done) => child.once('exit', (_code, signal) => done(signal)));
}

beforeAll(async () => {
  train = join(tmp.path, 'train.parquet');
  await writeTinyPoisonedSet(train, { rows: 400, classes: 4, side: 8, poisonRate: 0.1, target: 0, seed: 5 });
  // A fixed ratio: four classes are too few for the adaptive split, and the quarantine must hold rows.
  args = ['--isolation-epochs', '2', '--unlearn-epochs', '2', '--batch-size', '32', '--seed', '3'];
  args.push('--isolation-ratio', '0.05');
  args.push('--threads', '1', '--backend', 'wasm', '--quiet');
  reference = join(tmp.path, 'reference');
  const run = await runCli('audit', train, '--out', reference, ...args);
  expect(run.code, run.stderr).toBe(0);
}, 600_000);

describe('an audit killed anywhere and resumed', () => {
  it.each(POINTS)(
    'killed at %s: resumes to the uninterrupted outputs, leaving nothing temporary',
    async (point) => {
      const out = join(tmp.path, `killed-${point.replace(':', '-')}`);
      expect(await runKilled(out, point)).toBe('SIGKILL');
      const resumed = await runCli('audit', train, '--out', out, ...args, '--resume');
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await quarantineIds(out)).toEqual(await quarantineIds(reference));
      const weights = (dir: string) => readFile(join(dir, 'model', 'weights.bin'));
      expect(Buffer.compare(await weights(out), await weights(reference))).toBe(0);
      // The outputs, the folder's marker, and nothing else: no staging, journal, lock or checkpoint.
      expect((await readdir(out)).sort()).toEqual([...COMPLETED_AUDIT_FOLDER]);
    },
    600_000,
  );

  it('killed while its commit replaces an earlier run: resumes to the new run whole', async () => {
    const out = join(tmp.path, 'replacing');
    await cp(reference, out, { recursive: true });
    const other = [
      ...args.slice(0, args.indexOf('--seed')),
      '--seed',
      '4',
      ...args.slice(args.indexOf('--seed') + 2),
    ];
    const expected = join(tmp.path, 'reference-seed-4');
    expect((await runCli('audit', train, '--out', expected, ...other)).code).toBe(0);
    // The 3rd move of the commit: the old report.json and two old outputs are away, nothing new in.
    expect(await runKilled(out, 'commit-move:3', other)).toBe('SIGKILL');
    expect((await readdir(out)).includes('report.json')).toBe(false);
    const resumed = await runCli('audit', train, '--out', out, ...other, '--resume');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await quarantineIds(out)).toEqual(await quarantineIds(expected));
    const weights = (dir: string) => readFile(join(dir, 'model', 'weights.bin'));
    expect(Buffer.compare(await weights(out), await weights(expected))).toBe(0);
  }, 600_000);
});
