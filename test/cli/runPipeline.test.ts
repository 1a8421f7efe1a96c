import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPLETED_AUDIT_FOLDER } from '../helpers/auditFolder.js';
import { useTempDir } from '../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../helpers/tinyPoisonedSet.js';
import { runCli } from './runCli.js';

// `abl-audit run PIPELINE` end to end on a tiny poisoned set: gates, exit code 3, every output written.
// The audit itself on the real fixture is test/integration.
const tmp = useTempDir('run-pipeline-');
let train: string;
let test: string;

beforeAll(async () => {
  train = join(tmp.path, 'train.parquet');
  test = join(tmp.path, 'test.parquet');
  await writeTinyPoisonedSet(train, { rows: 400, classes: 4, side: 8, poisonRate: 0.1, target: 0, seed: 2 });
  await writeTinyPoisonedSet(test, { rows: 80, classes: 4, side: 8, poisonRate: 0, target: 0, seed: 3 });
});

describe('abl-audit run PIPELINE', () => {
  it('runs a pipeline file and exits 3 naming the gate that failed, after writing every output', async () => {
    const dir = await tmp.sub('pipeline');
    const file = join(dir, 'strict.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        'name: strict',
        'inputs:',
        `  train: ${train}`,
        `  test: ${test}`,
        'output: out',
        'seed: 3',
        'backend: wasm',
        'threads: 1',
        'model: { batch_size: 32 }',
        'isolation: { epochs: 1, ratio: 0.01 }',
        'unlearning: { epochs: 1 }',
        'gates:',
        '  fail_if_quarantine_fraction_above: 0.005',
        '  fail_if_clean_accuracy_below: 0.01',
        '  fail_if_attack_success_above: 0.5',
        '  fail_if_poison_found: true',
      ].join('\n'),
    );
    const run = await runCli('run', file, '--quiet');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/gate failed: fail_if_quarantine_fraction_above: 1\.00% > 0\.50%/);
    expect(run.stderr).toMatch(
      /gate failed: fail_if_attack_success_above: cannot be checked without a backdoor test set/,
    );
    expect(run.stderr).not.toMatch(/fail_if_clean_accuracy_below/);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8'));
    expect(report.status).toBe('gate-failed');
    expect(report.gates.map((g: { passed: boolean }) => g.passed)).toEqual([false, false, true, true]);
    // Four classes cannot be compared with each other: no verdict of poison, so that gate passes.
    expect(report.summary.verdict).toBe('inconclusive');
    expect(run.stderr).not.toMatch(/fail_if_poison_found/);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual([...COMPLETED_AUDIT_FOLDER]);
  });

  it('rejects an invalid pipeline file with exit code 2, naming the key', async () => {
    const file = join(await tmp.sub('bad'), 'bad.yaml');
    await writeFile(file, `version: 1\ninputs: { train: x.parquet }\noutput: out\nisolation: { ratio: 3 }\n`);
    const run = await runCli('run', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ABL302/);
    expect(run.stderr).toMatch(/isolation\.ratio/);
  });
});
