import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as t from 'typanion';
import { parse as parseYaml } from 'yaml';
import { LGA_MODES } from '../abl/lgaModes.js';
import { SCORE_METHODS } from '../abl/scoreRows.js';
import { REMOVAL_MODES, UNLEARN_MODES } from '../abl/unlearnModes.js';
import { parseShape } from '../data/imageShape.js';
import { MAX_IMAGE_PIXELS_CEILING } from '../data/readLimits.js';
import { ConfigError, describeError, ErrorCode, IoError } from '../errors.js';
import { BACKEND_NAMES } from '../train/backendNames.js';
import { ARCHITECTURES } from '../train/models/architectures.js';
import type { AuditConfig } from './auditConfig.js';
import { PRESET_NAMES, presetDefaults } from './presets.js';
import {
  isBatchSize,
  isEpochCount,
  isOpenFraction,
  isStrictlyPositive,
  isThreadCount,
} from './validators.js';

/** A pipeline file is a page of settings: anything larger is a mistake (or an attack on the parser). */
const MAX_PIPELINE_BYTES = 1024 * 1024;

const num = t.isNumber();
const int = t.cascade(num, [t.isInteger()]);
const positiveInt = t.cascade(num, [t.isInteger(), t.isAtLeast(1)]);
const fraction = isOpenFraction();
const unitInterval = t.cascade(num, [t.isInInclusiveRange(0, 1)]);
const positive = isStrictlyPositive();
const opt = <T>(v: t.StrictValidator<unknown, T>) => t.isOptional(v);

/**
 * The schema of a pipeline file (version 1). Unknown keys are errors, so a misspelt parameter cannot
 * be silently ignored. Documented in pipelines/README.md.
 */
const isPipelineFile = t.isObject({
  version: t.isLiteral(1),
  name: opt(t.isString()),
  description: opt(t.isString()),
  preset: opt(t.isEnum(PRESET_NAMES)),
  inputs: t.isObject({
    train: t.isString(),
    test: opt(t.isString()),
    backdoor_test: opt(t.isString()),
    columns: opt(
      t.isObject({
        image: opt(t.isString()),
        label: opt(t.isString()),
        id: opt(t.isString()),
        image_shape: opt(t.isString()),
        source: opt(t.isString()),
      }),
    ),
    num_classes: opt(t.cascade(num, [t.isInteger(), t.isAtLeast(2)])),
    max_classes: opt(t.cascade(num, [t.isInteger(), t.isAtLeast(2)])),
    max_image_pixels: opt(t.cascade(num, [t.isInteger(), t.isInInclusiveRange(1, MAX_IMAGE_PIXELS_CEILING)])),
  }),
  output: t.isString(),
  model: opt(
    t.isObject({
      architecture: opt(t.isEnum(ARCHITECTURES)),
      batch_size: opt(isBatchSize()),
      learning_rate: opt(positive),
      augment: opt(t.isEnum(['auto', 'on', 'off'] as const)),
    }),
  ),
  seed: opt(int),
  backend: opt(t.isEnum(['auto', ...BACKEND_NAMES] as const)),
  threads: opt(isThreadCount()),
  isolation: opt(
    t.isObject({
      epochs: opt(isEpochCount()),
      gamma: opt(positive),
      lga: opt(t.isEnum(LGA_MODES)),
      ratio: opt(t.isNullable(fraction)),
      score: opt(t.isEnum(SCORE_METHODS)),
    }),
  ),
  unlearning: opt(
    t.isObject({
      removal: opt(t.isEnum(REMOVAL_MODES)),
      mode: opt(t.isEnum(UNLEARN_MODES)),
      epochs: opt(isEpochCount()),
      learning_rate: opt(positive),
      retrain_learning_rate: opt(positive),
      isolated_per_batch: opt(positiveInt),
      max_accuracy_drop: opt(fraction),
      max_probe_rise: opt(t.isNullable(fraction)),
      max_target_class_drop: opt(t.isNullable(fraction)),
      guard_retries: opt(t.cascade(num, [t.isInteger(), t.isInInclusiveRange(0, 10)])),
      holdout_fraction: opt(fraction),
      distrust_target_quantile: opt(t.cascade(num, [t.isInInclusiveRange(0, 0.95)])),
      distrust_loss: opt(t.isNullable(positive)),
      trigger_filter: opt(t.isBoolean()),
      reference_unlearn_epochs: opt(isEpochCount()),
      reference_learning_rate: opt(positive),
    }),
  ),
  evaluation: opt(t.isObject({ target: opt(t.cascade(num, [t.isInteger(), t.isAtLeast(0)])) })),
  gates: opt(
    t.isObject({
      fail_if_quarantine_fraction_above: opt(unitInterval),
      fail_if_attack_success_above: opt(unitInterval),
      fail_if_clean_accuracy_below: opt(unitInterval),
      fail_if_poison_found: opt(t.isBoolean()),
      fail_if_source_quarantine_above: opt(unitInterval),
    }),
  ),
});

/** A pipeline file as parsed and validated. */
export type PipelineFile = t.InferType<typeof isPipelineFile>;

/** A loaded pipeline: its name and the audit it declares. */
export interface Pipeline {
  readonly name: string;
  readonly file: string;
  readonly config: AuditConfig;
}

/**
 * Reads a pipeline file (YAML), validates it once against the schema and returns the audit
 * configuration it declares, defaults filled in. Paths in the file are relative to the file's folder.
 *
 * @example
 * ```ts
 * const { config } = await loadPipeline('pipelines/demo.yaml');
 * await runAudit(config);
 * ```
 * @param path - the YAML file.
 * @param overrides - values that replace the file's or are not in it (the CLI's `--out`, `--force`).
 * @returns the pipeline.
 * @throws IoError when the file cannot be read; ConfigError (code ABL302) listing every invalid key.
 */
export async function loadPipeline(
  path: string,
  overrides: { out?: string | undefined; force?: boolean | undefined } = {},
): Promise<Pipeline> {
  const p = await readPipelineFile(path);
  const base = dirname(resolve(path));
  const at = (file: string | undefined) => (file === undefined ? null : resolve(base, file));
  // The preset's values are the defaults: the keys the file gives replace them.
  const D = presetDefaults(p.preset ?? 'default');
  const cols = p.inputs.columns;
  let imageShape: ReturnType<typeof parseShape> | undefined;
  try {
    imageShape =
      cols?.image_shape === undefined
        ? undefined
        : parseShape(cols.image_shape, 'inputs.columns.image_shape');
  } catch (cause) {
    throw new ConfigError(ErrorCode.Config, describeError(cause), {
      cause,
      location: { file: path },
    });
  }
  const u = p.unlearning ?? {};
  const config: AuditConfig = {
    preset: D.preset,
    train: at(p.inputs.train) as string,
    out: overrides.out === undefined ? (at(p.output) as string) : resolve(overrides.out),
    test: at(p.inputs.test),
    backdoorTest: at(p.inputs.backdoor_test),
    attackTarget: p.evaluation?.target ?? null,
    columns: {
      imageCol: cols?.image,
      labelCol: cols?.label,
      idCol: cols?.id,
      sourceCol: cols?.source,
      imageShape,
      numClasses: p.inputs.num_classes,
      maxClasses: p.inputs.max_classes,
      maxImagePixels: p.inputs.max_image_pixels,
    },
    model: p.model?.architecture ?? D.model,
    batchSize: p.model?.batch_size ?? D.batchSize,
    learningRate: p.model?.learning_rate ?? D.learningRate,
    augment: p.model?.augment ?? D.augment,
    seed: p.seed ?? D.seed,
    backend: p.backend ?? D.backend,
    threads: p.threads ?? D.threads,
    force: overrides.force ?? D.force,
    isolation: {
      epochs: p.isolation?.epochs ?? D.isolation.epochs,
      gamma: p.isolation?.gamma ?? D.isolation.gamma,
      lga: p.isolation?.lga ?? D.isolation.lga,
      // null: the adaptive quarantine, even where the preset has a fixed ratio.
      ratio: p.isolation?.ratio === undefined ? D.isolation.ratio : p.isolation.ratio,
      score: p.isolation?.score ?? D.isolation.score,
    },
    unlearning: {
      removal: u.removal ?? D.unlearning.removal,
      mode: u.mode ?? D.unlearning.mode,
      epochs: u.epochs ?? D.unlearning.epochs,
      learningRate: u.learning_rate ?? D.unlearning.learningRate,
      retrainLearningRate: u.retrain_learning_rate ?? D.unlearning.retrainLearningRate,
      isolatedPerBatch: u.isolated_per_batch ?? D.unlearning.isolatedPerBatch,
      maxAccuracyDrop: u.max_accuracy_drop ?? D.unlearning.maxAccuracyDrop,
      maxProbeRise: u.max_probe_rise === undefined ? D.unlearning.maxProbeRise : u.max_probe_rise,
      maxTargetClassDrop:
        u.max_target_class_drop === undefined ? D.unlearning.maxTargetClassDrop : u.max_target_class_drop,
      guardRetries: u.guard_retries ?? D.unlearning.guardRetries,
      holdoutFraction: u.holdout_fraction ?? D.unlearning.holdoutFraction,
      distrustTargetQuantile: u.distrust_target_quantile ?? D.unlearning.distrustTargetQuantile,
      distrustLoss: u.distrust_loss === undefined ? D.unlearning.distrustLoss : u.distrust_loss,
      triggerFilter: u.trigger_filter ?? D.unlearning.triggerFilter,
      referenceUnlearnEpochs: u.reference_unlearn_epochs ?? D.unlearning.referenceUnlearnEpochs,
      referenceLearningRate: u.reference_learning_rate ?? D.unlearning.referenceLearningRate,
    },
    gates: {
      failIfQuarantineFractionAbove: p.gates?.fail_if_quarantine_fraction_above ?? null,
      failIfAttackSuccessAbove: p.gates?.fail_if_attack_success_above ?? null,
      failIfCleanAccuracyBelow: p.gates?.fail_if_clean_accuracy_below ?? null,
      failIfPoisonFound: p.gates?.fail_if_poison_found ?? null,
      failIfSourceQuarantineAbove: p.gates?.fail_if_source_quarantine_above ?? null,
    },
  };
  return { name: p.name ?? path, file: path, config };
}

/** Reads, parses and validates a pipeline file; a file too large to be one is refused unread. */
async function readPipelineFile(path: string): Promise<t.InferType<typeof isPipelineFile>> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_PIPELINE_BYTES) {
      throw new ConfigError(
        ErrorCode.Config,
        `a pipeline file of ${size.toLocaleString('en-US')} bytes is not a pipeline file (at most ${MAX_PIPELINE_BYTES.toLocaleString('en-US')})`,
        { location: { file: path } },
      );
    }
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new IoError(ErrorCode.FileNotFound, `cannot read the pipeline file: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(ErrorCode.Config, `not valid YAML: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
  const errors: string[] = [];
  if (!isPipelineFile(raw, { errors })) {
    throw new ConfigError(
      ErrorCode.Config,
      `not a valid pipeline file:\n${errors.map((e) => `  - ${e}`).join('\n')}`,
      { location: { file: path } },
    );
  }
  return raw;
}
