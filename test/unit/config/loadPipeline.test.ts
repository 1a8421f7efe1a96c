import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AUDIT_DEFAULTS } from '../../../src/config/auditConfig.js';
import { loadPipeline } from '../../../src/config/loadPipeline.js';
import { presetDefaults } from '../../../src/config/presets.js';
import { ConfigError, ErrorCode, IoError } from '../../../src/errors.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('pipeline-');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const MINIMAL = `version: 1
inputs:
  train: data/train.parquet
output: out
`;

/** Writes `text` as `name` in a fresh folder and returns the file's path. */
async function pipelineFile(text: string, name = 'pipeline.yaml'): Promise<string> {
  const dir = await tmp.sub('p');
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Loads a pipeline that must fail with a ConfigError (ABL302) and returns the error. */
async function configError(text: string): Promise<ConfigError> {
  const path = await pipelineFile(text);
  const err = await rejection(loadPipeline(path));
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.code).toBe(ErrorCode.Config);
  expect(err.code).toBe('ABL302');
  expect(err.message).toContain(path);
  return err;
}

describe('loadPipeline: a valid file', () => {
  it('fills every default from AUDIT_DEFAULTS into a minimal file', async () => {
    const path = await pipelineFile(MINIMAL);
    const dir = dirname(path);
    const { name, file, config } = await loadPipeline(path);
    expect(file).toBe(path);
    expect(name).toBe(path);
    expect(config.train).toBe(join(dir, 'data/train.parquet'));
    expect(config.out).toBe(join(dir, 'out'));
    const { train: _train, out: _out, columns, ...rest } = config;
    const { columns: defaultColumns, ...defaults } = AUDIT_DEFAULTS;
    expect(rest).toStrictEqual(defaults);
    // Column overrides are all unset (keys present with undefined values).
    expect(columns).toEqual(defaultColumns);
    expect(Object.values(columns).every((v) => v === undefined)).toBe(true);
    expect(config.gates).toStrictEqual({
      failIfQuarantineFractionAbove: null,
      failIfAttackSuccessAbove: null,
      failIfCleanAccuracyBelow: null,
      failIfPoisonFound: null,
      failIfSourceQuarantineAbove: null,
    });
  });

  it('resolves every path against the file\u2019s folder, not the working directory', async () => {
    const path = await pipelineFile(`version: 1
name: nightly
inputs:
  train: ../shared/train
  test: test.parquet
  backdoor_test: ./sets/backdoor.parquet
output: /abs/out
`);
    const dir = dirname(path);
    const { name, config } = await loadPipeline(path);
    expect(name).toBe('nightly');
    expect(config.train).toBe(resolve(dir, '../shared/train'));
    expect(config.test).toBe(join(dir, 'test.parquet'));
    expect(config.backdoorTest).toBe(join(dir, 'sets/backdoor.parquet'));
    // An absolute path stays as written.
    expect(config.out).toBe('/abs/out');
    for (const p of [config.train, config.test, config.backdoorTest])
      expect(isAbsolute(p as string)).toBe(true);
  });

  it('resolves paths of a file given by a relative path against that file\u2019s folder', async () => {
    const path = await pipelineFile(MINIMAL);
    const dir = dirname(path);
    const cwd = process.cwd();
    try {
      process.chdir(dirname(dir)); // the pipeline is at ./<folder>/pipeline.yaml from here
      const { config, file } = await loadPipeline(join(basename(dir), 'pipeline.yaml'));
      expect(file).toBe(join(basename(dir), 'pipeline.yaml'));
      expect(config.train).toBe(join(dir, 'data/train.parquet'));
      expect(config.out).toBe(join(dir, 'out'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('lets the --out override replace the file\u2019s output', async () => {
    const path = await pipelineFile(MINIMAL);
    expect((await loadPipeline(path, { out: '/elsewhere/run1' })).config.out).toBe('/elsewhere/run1');
    expect((await loadPipeline(path, { out: undefined })).config.out).toBe(join(dirname(path), 'out'));
  });

  it('maps every snake_case key onto the config', async () => {
    const path = await pipelineFile(`version: 1
name: full
description: every key set
inputs:
  train: train
  columns:
    image: pixels
    label: y
    id: key
    image_shape: 32x32x3
output: out
seed: 7
backend: cpu
threads: 3
model:
  architecture: resnet8
  batch_size: 32
  learning_rate: 0.05
  augment: on
isolation:
  epochs: 5
  gamma: 0.25
  lga: per-example
  ratio: 0.1
  score: final-loss
unlearning:
  removal: retrain-unlearn
  mode: reference
  epochs: 3
  learning_rate: 0.002
  retrain_learning_rate: 0.0005
  isolated_per_batch: 8
  max_accuracy_drop: 0.1
  max_probe_rise: 0.07
  max_target_class_drop: 0.2
  guard_retries: 1
  holdout_fraction: 0.2
  distrust_target_quantile: 0.25
  distrust_loss: 1.5
  trigger_filter: false
  reference_unlearn_epochs: 6
  reference_learning_rate: 0.001
evaluation:
  target: 3
gates:
  fail_if_quarantine_fraction_above: 0.05
  fail_if_attack_success_above: 0.1
  fail_if_clean_accuracy_below: 0.8
  fail_if_poison_found: true
  fail_if_source_quarantine_above: 0.02
`);
    const { name, config } = await loadPipeline(path);
    expect(name).toBe('full');
    expect(config.attackTarget).toBe(3);
    expect(config.columns).toEqual({
      imageCol: 'pixels',
      labelCol: 'y',
      idCol: 'key',
      imageShape: { height: 32, width: 32, channels: 3 },
    });
    expect(config.model).toBe('resnet8');
    expect(config.batchSize).toBe(32);
    expect(config.learningRate).toBe(0.05);
    // YAML 1.2: `on` is the string 'on', not a boolean.
    expect(config.augment).toBe('on');
    expect(config.seed).toBe(7);
    expect(config.backend).toBe('cpu');
    expect(config.threads).toBe(3);
    expect(config.isolation).toStrictEqual({
      epochs: 5,
      gamma: 0.25,
      lga: 'per-example',
      ratio: 0.1,
      score: 'final-loss',
    });
    expect(config.unlearning).toStrictEqual({
      removal: 'retrain-unlearn',
      mode: 'reference',
      epochs: 3,
      learningRate: 0.002,
      retrainLearningRate: 0.0005,
      isolatedPerBatch: 8,
      maxAccuracyDrop: 0.1,
      maxProbeRise: 0.07,
      maxTargetClassDrop: 0.2,
      guardRetries: 1,
      triggerFilter: false,
      holdoutFraction: 0.2,
      distrustTargetQuantile: 0.25,
      distrustLoss: 1.5,
      referenceUnlearnEpochs: 6,
      referenceLearningRate: 0.001,
    });
    expect(config.gates).toStrictEqual({
      failIfQuarantineFractionAbove: 0.05,
      failIfAttackSuccessAbove: 0.1,
      failIfCleanAccuracyBelow: 0.8,
      failIfPoisonFound: true,
      failIfSourceQuarantineAbove: 0.02,
    });
  });

  it('keeps defaults for the keys a section leaves out', async () => {
    const path = await pipelineFile(`${MINIMAL}unlearning:
  max_accuracy_drop: 0.01
gates:
  fail_if_attack_success_above: 0.2
isolation:
  ratio: 0.05
`);
    const { config } = await loadPipeline(path);
    expect(config.unlearning).toStrictEqual({ ...AUDIT_DEFAULTS.unlearning, maxAccuracyDrop: 0.01 });
    expect(config.gates).toStrictEqual({ ...AUDIT_DEFAULTS.gates, failIfAttackSuccessAbove: 0.2 });
    expect(config.isolation).toStrictEqual({ ...AUDIT_DEFAULTS.isolation, ratio: 0.05 });
  });

  it('starts from the paper preset, the keys the file gives replacing its values', async () => {
    const path = await pipelineFile(`${MINIMAL}preset: paper\nisolation:\n  epochs: 7\n`);
    const { config } = await loadPipeline(path);
    const paper = presetDefaults('paper');
    expect(config.preset).toBe('paper');
    expect(config.isolation).toStrictEqual({ ...paper.isolation, epochs: 7 });
    expect(config.unlearning).toStrictEqual(paper.unlearning);
    expect(paper.isolation).toMatchObject({ gamma: 0.5, ratio: 0.01, lga: 'per-example' });
    expect(paper.unlearning).toMatchObject({ maxProbeRise: null, triggerFilter: false });
  });

  it('reads isolation.ratio: null as the adaptive quarantine, even under the paper preset', async () => {
    const path = await pipelineFile(`${MINIMAL}preset: paper\nisolation:\n  ratio: null\n`);
    const { config } = await loadPipeline(path);
    expect(config.isolation.ratio).toBeNull();
    expect(config.isolation.epochs).toBe(20);
  });

  it.each([
    ['unlearning:\n  removal: drop\n', '.unlearning.removal'],
    ['unlearning:\n  retrain_learning_rate: -1\n', '.unlearning.retrain_learning_rate'],
    ['gates:\n  fail_if_source_quarantine_above: 1.5\n', '.gates.fail_if_source_quarantine_above'],
  ])('rejects a bad new key (%s), naming it', async (yaml, key) => {
    const err = await configError(`${MINIMAL}${yaml}`);
    expect(err.message).toContain(key);
  });

  it('rejects a source column given as a number, naming the key', async () => {
    const err = await configError(
      'version: 1\ninputs:\n  train: data/train.parquet\n  columns:\n    source: 3\noutput: out\n',
    );
    expect(err.message).toContain('.inputs.columns.source');
  });

  it('rejects an unknown preset, naming the key', async () => {
    const err = await configError(`${MINIMAL}preset: fast\n`);
    expect(err.message).toContain('preset');
  });

  it('reads distrust_loss: null as disabled, not as the default', async () => {
    const path = await pipelineFile(`${MINIMAL}unlearning:
  distrust_loss: null
`);
    expect((await loadPipeline(path)).config.unlearning.distrustLoss).toBeNull();
    expect(AUDIT_DEFAULTS.unlearning.distrustLoss).not.toBeNull();
  });

  it('reads augment: off as the string off', async () => {
    const path = await pipelineFile(`${MINIMAL}model:
  augment: off
`);
    expect((await loadPipeline(path)).config.augment).toBe('off');
  });

  it('loads pipelines/demo.yaml, whose inputs exist', async () => {
    const demo = join(repoRoot, 'pipelines', 'demo.yaml');
    const { name, config } = await loadPipeline(demo);
    expect(name).toBe('demo');
    expect(config.train).toBe(join(repoRoot, 'fixtures/fashion-mnist-badnets/train.parquet'));
    expect(existsSync(config.train)).toBe(true);
    expect(config.test !== null && existsSync(config.test)).toBe(true);
    expect(config.backdoorTest !== null && existsSync(config.backdoorTest)).toBe(true);
    expect(config.out).toBe(join(repoRoot, 'out/demo'));
    // (Its parameters are tuned elsewhere; only that they validate is checked here.)
  });
});

describe('loadPipeline: invalid files', () => {
  it('rejects a misspelt top-level key, naming it', async () => {
    const err = await configError(`${MINIMAL}isolaton:
  ratio: 0.02
`);
    expect(err.message).toContain('isolaton');
  });

  it('rejects a misspelt nested key, naming it', async () => {
    const err = await configError(`${MINIMAL}isolation:
  ratoi: 0.02
`);
    expect(err.message).toContain('ratoi');
    expect(err.message).toContain('isolation');
  });

  it('rejects an out-of-range ratio, naming the key path', async () => {
    for (const ratio of ['2', '1', '0', '-0.1']) {
      const err = await configError(`${MINIMAL}isolation:
  ratio: ${ratio}
`);
      expect(err.message).toMatch(/isolation\.ratio/);
    }
  });

  it('rejects an unknown enum value, naming the key path', async () => {
    const err = await configError(`${MINIMAL}isolation:
  lga: foo
`);
    expect(err.message).toMatch(/isolation\.lga/);
    expect(err.message).toContain('foo');
  });

  it('takes gates.fail_if_poison_found as a boolean only, naming the key otherwise', async () => {
    const ok = await loadPipeline(await pipelineFile(`${MINIMAL}gates:\n  fail_if_poison_found: false\n`));
    expect(ok.config.gates.failIfPoisonFound).toBe(false);
    for (const bad of ['"yes"', '1', 'maybe']) {
      const err = await configError(`${MINIMAL}gates:\n  fail_if_poison_found: ${bad}\n`);
      expect(err.message).toContain('.gates.fail_if_poison_found');
    }
  });

  it('takes threads: auto or a whole number from 1 to 64, naming the key otherwise', async () => {
    expect((await loadPipeline(await pipelineFile(`${MINIMAL}threads: auto\n`))).config.threads).toBe('auto');
    for (const bad of ['0', '65', '1.5', 'many', '"2"']) {
      const error = await rejection(loadPipeline(await pipelineFile(`${MINIMAL}threads: ${bad}\n`)));
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toContain('threads');
    }
  });

  it('takes unlearning.guard_retries from 0 to 10, naming the key otherwise', async () => {
    const retries = async (value: string) =>
      loadPipeline(await pipelineFile(`${MINIMAL}unlearning:\n  guard_retries: ${value}\n`));
    expect((await retries('0')).config.unlearning.guardRetries).toBe(0);
    for (const bad of ['-1', '1.5', '11', 'twice']) {
      const error = await rejection(retries(bad));
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toContain('unlearning.guard_retries');
    }
  });

  it('bounds epoch counts (1..1000), batch sizes (1..65536) and max_image_pixels, naming the key', async () => {
    const ok = await loadPipeline(
      await pipelineFile(`${MINIMAL}isolation:\n  epochs: 1000\nmodel:\n  batch_size: 65536\n`),
    );
    expect(ok.config.isolation.epochs).toBe(1000);
    for (const [section, key, value] of [
      ['isolation', 'epochs', '100000000'],
      ['isolation', 'epochs', '0'],
      ['unlearning', 'epochs', '1001'],
      ['unlearning', 'reference_unlearn_epochs', '5000'],
      ['model', 'batch_size', '65537'],
    ] as const) {
      const err = await configError(`${MINIMAL}${section}:\n  ${key}: ${value}\n`);
      expect(err.message).toContain(`.${section}.${key}`);
    }
    const pixels = await configError(
      `${MINIMAL.replace('  train: data/train.parquet\n', '  train: data/train.parquet\n  max_image_pixels: 1000000000000\n')}`,
    );
    expect(pixels.message).toContain('max_image_pixels');
  });

  it('refuses a file over 1 MiB before parsing it, naming the file and its size', async () => {
    const path = await pipelineFile(`${MINIMAL}# ${'x'.repeat(1024 * 1024)}\n`);
    const err = await rejection(loadPipeline(path));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('ABL302');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/1,048,\d{3} bytes is not a pipeline file/);
  });

  it('rejects a value of the wrong type', async () => {
    const err = await configError(`${MINIMAL}model:
  batch_size: "64"
`);
    expect(err.message).toMatch(/model\.batch_size/);
    const frac = await configError(`${MINIMAL}model:
  batch_size: 2.5
`);
    expect(frac.message).toMatch(/model\.batch_size/);
  });

  it('lists every invalid key, not only the first', async () => {
    const err = await configError(`${MINIMAL}isolation:
  ratio: 2
gates:
  fail_if_clean_accuracy_below: 1.5
`);
    expect(err.message).toMatch(/isolation\.ratio/);
    expect(err.message).toMatch(/gates\.fail_if_clean_accuracy_below/);
  });

  it('rejects a file without its required keys', async () => {
    const noTrain = await configError(`version: 1
inputs: {}
output: out
`);
    expect(noTrain.message).toMatch(/train/);
    const noOutput = await configError(`version: 1
inputs:
  train: t
`);
    expect(noOutput.message).toMatch(/output/);
  });

  it('rejects any version but 1', async () => {
    for (const v of ['2', '"1"', '0']) {
      const err = await configError(MINIMAL.replace('version: 1', `version: ${v}`));
      expect(err.message).toMatch(/version/);
    }
    const missing = await configError(MINIMAL.replace('version: 1\n', ''));
    expect(missing.message).toMatch(/version/);
  });

  it('rejects a document that is not a mapping', async () => {
    await configError('- just\n- a list\n');
    await configError('');
  });

  it('rejects a bad image_shape, naming the key', async () => {
    const err = await configError(`version: 1
inputs:
  train: t
  columns:
    image_shape: 28 by 28
output: out
`);
    expect(err.message).toContain('inputs.columns.image_shape');
    expect(err.message).toContain('28 by 28');
  });

  it('rejects invalid YAML with a ConfigError', async () => {
    const err = await configError('version: 1\ninputs: [unclosed\n  train: x\n');
    expect(err.message).toMatch(/not valid YAML/);
    expect(err.cause).toBeDefined();
  });

  it('rejects a missing file with an IoError (ABL101) naming it', async () => {
    const path = join(tmp.path, 'no-such-pipeline.yaml');
    const err = await rejection(loadPipeline(path));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.FileNotFound);
    expect(err.code).toBe('ABL101');
    expect(err.message).toContain(path);
    expect(err.location).toEqual({ file: path });
  });
});
