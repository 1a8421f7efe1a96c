import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/tempDir.js';
import { runCli } from './runCli.js';

const tmp = useTempDir('abl-cli-train-');
const FIXTURE_TEST = new URL('../../fixtures/fashion-mnist/test.parquet', import.meta.url).pathname;
const BACKDOOR_TEST = new URL('../../fixtures/fashion-mnist-badnets/test-backdoor.parquet', import.meta.url)
  .pathname;

describe('abl-audit train', () => {
  it('trains, evaluates and saves a model that records its run in model.json', async () => {
    const out = join(tmp.path, 'model');
    // The 500-row fixture test split as a small training set: one epoch is enough to exercise the path.
    const run = await runCli(
      'train',
      FIXTURE_TEST,
      '--out',
      out,
      '--epochs',
      '1',
      '--batch-size',
      '50',
      '--test',
      FIXTURE_TEST,
      '--backdoor-test',
      BACKDOOR_TEST,
      '--backend',
      'wasm',
      '--seed',
      '3',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/epoch 1\/1: loss \d+\.\d+/);
    expect(run.stdout).toMatch(/clean accuracy: \d+\.\d+% of 500 test rows/);
    expect(run.stdout).toMatch(/attack success rate: \d+\.\d+% of 450 triggered rows predicted as class 0/);
    expect(existsSync(join(out, 'weights.bin'))).toBe(true);
    const modelJson = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as {
      userDefinedMetadata?: { info?: Record<string, unknown>; classNames?: string[] };
    };
    const meta = modelJson.userDefinedMetadata;
    // --threads auto (the default): every core, at most 8, recorded with the model.
    expect(meta?.info).toMatchObject({
      seed: 3,
      epochs: 1,
      backend: 'wasm',
      threads: Math.min(availableParallelism(), 8),
    });
    expect(meta?.classNames?.[0]).toBe('T-shirt/top');
  }, 600_000);

  it('exits 2 for an unknown --backend or --model, and 1 naming the reason for an unavailable backend', async () => {
    const out = join(tmp.path, 'never');
    const badBackend = await runCli('train', FIXTURE_TEST, '--out', out, '--backend', 'gpu-please');
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toContain(
      'expected one of "auto", "tensorflow-gpu", "tensorflow", "wasm", or "cpu"',
    );
    const badModel = await runCli('train', FIXTURE_TEST, '--out', out, '--model', 'vgg');
    expect(badModel.code).toBe(2);
    const unavailable = await runCli('train', FIXTURE_TEST, '--out', out, '--backend', 'tensorflow');
    expect(unavailable.code).toBe(1);
    expect(unavailable.stderr).toMatch(/ABL401.*tfjs-node/);
    for (const threads of ['0', '65', 'lots']) {
      const badThreads = await runCli('train', FIXTURE_TEST, '--out', out, '--threads', threads);
      expect(badThreads.code).toBe(2);
      expect(badThreads.stderr).toContain('--threads');
    }
    expect(existsSync(out)).toBe(false);
  });
});
