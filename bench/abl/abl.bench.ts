/**
 * `npm run bench:abl`: does the audit work? For each attack, on a Fashion-MNIST training subset (from
 * Debian's dataset-fashion-mnist) and the full test set: a no-defense model, then the audit with its
 * defaults. Writes one JSON per attack under bench/results/abl-fmnist/, then
 * bench/results/abl-fmnist.json and a Markdown table combining every attack's latest result, with the
 * no-defense settings listed under it.
 *
 * The no-defense model is the one a user would train: what `abl-audit train` does with its defaults
 * (src/cli/actions/trainBaseline.ts) — Adam, lr 1e-3, on a cosine schedule over its epochs, batch 64,
 * augmentation `auto` (crop and flip for 3-channel images only, so none on Fashion-MNIST), seed 1 — for
 * max(5, the epochs the audit's final model trains: unlearning.epochs of the preset and config) epochs. Each result
 * records them (`noDefense.settings`). Results written before this have no settings: their no-defense
 * model was trained with the audit's optimizer (SGD 0.01, Nesterov) for isolation + unlearning epochs.
 *
 * Poisoning rates are read as shares of all training rows (`rateOf: 'all'`, `abl-audit poison`'s default,
 * as BackdoorBench reads them): BadNets 10% poisons 1,000 of 10,000 rows, drawn from the non-target
 * ones. The data folders carry the reading in their names (data/bench/badnets-10-all-10000), so sets made
 * under the former reading (share of the eligible rows: 906 rows, in data/bench/badnets-10-10000) are
 * never reused for it. Each result records `rate`, `rateOf` and `poisonedShare` (poisoned / rows); the
 * table's Poisoned column shows them (a result without `rateOf` predates the option: eligible).
 *
 * Environment:
 *   ABL_BENCH_ROWS     training rows (default 10000: the first rows of the training file, which is in
 *                      random order already)
 *   ABL_BENCH_ATTACKS  comma-separated subset of: clean, badnets-10, blend-10, trojan-10, wanet-10, sig,
 *                      badnets-1 (default all; run two subsets in two processes to use both cores; a name
 *                      of none runs no case and only recombines the results already written)
 *   ABL_BENCH_DIR      where the data sets are made (default data/bench)
 *   ABL_BENCH_THREADS  threads the no-defense model and the audit train on (default auto: every core);
 *                      a number other than auto writes <attack>-threads<N>.json, so a one-thread run
 *                      sits next to the default one for comparison
 *   ABL_BENCH_RATIO    a fixed isolation ratio (the paper's budget, 0.01) instead of the adaptive split;
 *                      writes <attack>-ratio<R>.json
 *   ABL_BENCH_CONFIG   path of a JSON file deep-merged over the audit's config (AUDIT_DEFAULTS), e.g.
 *                      {"unlearning":{"removal":"retrain"}}: objects merge key by key, anything else
 *                      replaces; a key the config does not have is an error, and so are test,
 *                      backdoorTest, attackTarget and threads (the bench's own); ABL_BENCH_RATIO, when
 *                      set, wins over its isolation.ratio. The no-defense model does not change with it.
 *                      Recorded in each result (`auditConfig`).
 *   ABL_BENCH_PRESET   the preset the audit starts from: default or paper (the paper's ABL, see
 *                      src/config/presets.ts); ABL_BENCH_CONFIG merges over it. Tag paper runs.
 *   ABL_BENCH_TAG      a name for the variant ([A-Za-z0-9._-]): appended to the result file
 *                      (<attack>-<tag>.json, e.g. badnets-10-retrain.json) and to the audit's folder,
 *                      and shown in the table's first column, so variants sit side by side
 *   FASHION_MNIST_DIR  folder of the IDX files (default /usr/share/datasets/fashion-mnist)
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../src/config/auditConfig.js';
import { PRESET_NAMES, type PresetName, presetDefaults } from '../../src/config/presets.js';
import { decodeExamples } from '../../src/data/decodeExamples.js';
import { FASHION_MNIST_DEFAULT_DIR, importFashionMnist } from '../../src/import/importFashionMnist.js';
import { iterateDataset, readDataset } from '../../src/io/readDataset.js';
import { runAudit } from '../../src/pipeline/runAudit.js';
import { POISON_METADATA_KEY } from '../../src/poison/columns.js';
import {
  type AttackParams,
  type PoisonSummary,
  poisonDataset,
  poisonTestSet,
} from '../../src/poison/poisonDataset.js';
import type { RateOf } from '../../src/poison/selectPoisonRows.js';
import { initBackend } from '../../src/train/backend.js';
import { resolveAugment } from '../../src/train/batches/augment.js';
import { toTrainBatches } from '../../src/train/batches/toTrainBatches.js';
import { accuracy, attackSuccessRate } from '../../src/train/evaluate.js';
import { crossEntropyObjective } from '../../src/train/losses.js';
import { cosineSchedule } from '../../src/train/optim.js';
import { createTrainer } from '../../src/train/scaffold/createTrainer.js';
import { readTrainingData } from '../../src/train/scaffold/readTrainingData.js';
import { trainEpoch } from '../../src/train/trainEpoch.js';
import { installedVersions } from '../../src/util/packageVersions.js';
import { writeSubset } from './subset.js';

interface AttackCase {
  readonly name: string;
  readonly label: string;
  /** null: the clean subset itself (the audit must find nothing). */
  readonly attack: AttackParams | null;
  readonly rate: number;
  /** What `rate` is a share of (see `abl-audit poison --rate-of`); every case uses `all`. */
  readonly rateOf: RateOf;
  readonly crossRatio?: number;
  /** The issue's attack-success target for the audited model. */
  readonly asrTarget: number;
}

const CASES: readonly AttackCase[] = [
  { name: 'clean', label: 'Clean data (no poison)', attack: null, rate: 0, rateOf: 'all', asrTarget: 1 },
  {
    name: 'badnets-10',
    label: 'BadNets 3×3 grid 10%',
    attack: { attack: 'badnets', patch: 'grid' },
    rate: 0.1,
    rateOf: 'all',
    asrTarget: 0.02,
  },
  {
    name: 'blend-10',
    label: 'Blend (noise, α 0.2) 10%',
    attack: { attack: 'blend', alpha: 0.2 },
    rate: 0.1,
    rateOf: 'all',
    asrTarget: 0.1,
  },
  {
    // The reference code's default attack: a ±160 3×3 pattern added one pixel in from the bottom-right
    // corner (src/attacks/trojan.ts, its defaults).
    name: 'trojan-10',
    label: 'Trojan ±160 3×3 pattern 10%',
    attack: { attack: 'trojan' },
    rate: 0.1,
    rateOf: 'all',
    asrTarget: 0.02,
  },
  {
    name: 'wanet-10',
    label: 'WaNet (k 4, s 0.5, noise mode) 10%',
    attack: { attack: 'wanet', k: 4, s: 0.5 },
    rate: 0.1,
    rateOf: 'all',
    crossRatio: 2,
    asrTarget: 0.1,
  },
  {
    // 5% of all rows, all of them from the target class (about 940 rows of 10,000): about half of it.
    name: 'sig',
    label: 'SIG clean-label 5% (about half the target class)',
    attack: { attack: 'sig', alpha: 0.2, frequency: 6 },
    rate: 0.05,
    rateOf: 'all',
    asrTarget: 0.1,
  },
  {
    name: 'badnets-1',
    label: 'BadNets 3×3 grid 1%',
    attack: { attack: 'badnets', patch: 'grid' },
    rate: 0.01,
    rateOf: 'all',
    asrTarget: 0.1,
  },
];

const TARGET = 0;
const SEED = 1;
const rows = Number(process.env.ABL_BENCH_ROWS ?? 10_000);
const dir = process.env.ABL_BENCH_DIR ?? 'data/bench';
const wanted = (process.env.ABL_BENCH_ATTACKS ?? CASES.map((c) => c.name).join(',')).split(',');
const resultsDir = 'bench/results/abl-fmnist';
const threadsSetting = process.env.ABL_BENCH_THREADS ?? 'auto';
/** ABL_BENCH_RATIO: a fixed isolation ratio (the paper's budget) instead of the adaptive split. */
const fixedRatio = process.env.ABL_BENCH_RATIO === undefined ? null : Number(process.env.ABL_BENCH_RATIO);
const threads: number | 'auto' = threadsSetting === 'auto' ? 'auto' : Number(threadsSetting);
if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) {
  throw new Error(`ABL_BENCH_THREADS must be auto or a whole number ≥ 1, got '${threadsSetting}'`);
}
/** ABL_BENCH_TAG: the variant's name, in the result file's name and the table. */
const tag = process.env.ABL_BENCH_TAG || null;
if (tag !== null && !/^[A-Za-z0-9._-]+$/.test(tag)) {
  throw new Error(`ABL_BENCH_TAG must be letters, digits, '.', '_' or '-', got '${tag}'`);
}
/** ABL_BENCH_PRESET: the preset the audit's config starts from (default `default`). */
const presetName = (process.env.ABL_BENCH_PRESET ?? 'default') as PresetName;
if (!PRESET_NAMES.includes(presetName)) {
  throw new Error(`ABL_BENCH_PRESET must be one of ${PRESET_NAMES.join(', ')}, got '${presetName}'`);
}
const PRESET = presetDefaults(presetName);
/** ABL_BENCH_CONFIG: what is merged over the preset (an empty object without it). */
const configOverrides = await readConfigOverrides(process.env.ABL_BENCH_CONFIG);
/** The epochs the audit's final model trains, with the preset and ABL_BENCH_CONFIG applied. */
const overriddenUnlearning = configOverrides.unlearning;
const finalEpochs =
  isPlainObject(overriddenUnlearning) && typeof overriddenUnlearning.epochs === 'number'
    ? overriddenUnlearning.epochs
    : PRESET.unlearning.epochs;

/**
 * The no-defense model's training: `abl-audit train`'s defaults (TrainCommand, trainBaseline.ts), for
 * as many epochs as the audit's final model trains (with ABL_BENCH_PRESET and ABL_BENCH_CONFIG), and at
 * least train's default 5, so the audit is never compared with a model trained for less.
 */
const BASELINE = {
  architecture: AUDIT_DEFAULTS.model, // small-cnn, train's default too
  optimizer: 'adam',
  lr: 1e-3, // train's default for adam
  schedule: 'cosine',
  epochs: Math.max(5, finalEpochs),
  batchSize: 64,
  augment: 'auto',
  weightDecay: 0,
  seed: SEED,
} as const;

/**
 * A case's folder name, for its data and its audit: the rate's reading is in it (not for the clean case,
 * which poisons nothing), so that no set made under another reading is reused.
 */
function caseName(c: AttackCase): string {
  return c.attack === null ? `${c.name}-${rows}` : `${c.name}-${c.rateOf}-${rows}`;
}

/** The JSON object in ABL_BENCH_CONFIG's file, checked against the audit config's keys. */
async function readConfigOverrides(path: string | undefined): Promise<Record<string, unknown>> {
  if (!path) return {};
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isPlainObject(parsed)) throw new Error(`ABL_BENCH_CONFIG ${path} must hold a JSON object`);
  const owned = ['test', 'backdoorTest', 'attackTarget', 'threads'].filter((k) => k in parsed);
  if (owned.length) {
    throw new Error(
      `ABL_BENCH_CONFIG ${path}: ${owned.join(', ')}: set by the bench (the data sets, the target, ABL_BENCH_THREADS)`,
    );
  }
  checkKeys(parsed, AUDIT_DEFAULTS, path, '');
  return parsed;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Refuses a key the base object lacks (a typo would otherwise run the defaults under a variant's name). */
function checkKeys(over: Record<string, unknown>, base: object, path: string, at: string): void {
  const known = base as Record<string, unknown>;
  // An empty object in the base (columns) has optional keys only: anything goes there.
  if (Object.keys(known).length === 0) return;
  for (const [key, value] of Object.entries(over)) {
    if (!(key in known)) {
      throw new Error(`ABL_BENCH_CONFIG ${path}: '${at}${key}' is not a key of the audit config`);
    }
    const inner = known[key];
    if (isPlainObject(value) && isPlainObject(inner)) checkKeys(value, inner, path, `${at}${key}.`);
  }
}

/** `over` merged into `base`: plain objects key by key, anything else (arrays, null, scalars) replaces. */
function deepMerge<T>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    const inner = out[key];
    out[key] = isPlainObject(value) && isPlainObject(inner) ? deepMerge(inner, value) : value;
  }
  return out as T;
}

async function prepare(): Promise<{ train: string; test: string }> {
  const full = join(dir, 'clean-full');
  if (!existsSync(join(full, 'test.parquet'))) {
    await importFashionMnist({ from: process.env.FASHION_MNIST_DIR ?? FASHION_MNIST_DEFAULT_DIR, out: full });
  }
  const train = join(dir, `clean-${rows}`, 'train.parquet');
  if (!existsSync(train)) await writeSubset(join(full, 'train.parquet'), train, rows);
  return { train, test: join(full, 'test.parquet') };
}

async function poisonSets(
  c: AttackCase,
  clean: { train: string; test: string },
): Promise<{ train: string; backdoor: string | null; poison: RecordedPoison | null }> {
  if (c.attack === null) return { train: clean.train, backdoor: null, poison: null };
  const base = join(dir, caseName(c));
  const train = join(base, 'train.parquet');
  const backdoor = join(base, 'test-backdoor.parquet');
  const options = {
    attack: c.attack,
    rate: c.rate,
    rateOf: c.rateOf,
    target: TARGET,
    seed: SEED,
    crossRatio: c.crossRatio ?? 0,
  };
  if (!existsSync(train)) await poisonDataset(clean.train, train, options);
  if (!existsSync(backdoor)) await poisonTestSet(clean.test, backdoor, options);
  // A set made earlier is reused only if it was made with this case's parameters.
  const poison = await recordedPoison(train);
  const recordedRateOf = poison.rateOf ?? 'eligible';
  if (
    poison.attack !== c.attack.attack ||
    poison.rate !== c.rate ||
    recordedRateOf !== c.rateOf ||
    poison.target !== TARGET ||
    poison.seed !== SEED ||
    poison.rows !== rows
  ) {
    throw new Error(
      `${train} was made with other parameters (${poison.attack}, rate ${poison.rate} of ${recordedRateOf}, ` +
        `target ${poison.target}, seed ${poison.seed}, ${poison.rows} rows); delete ${base} to remake it`,
    );
  }
  return { train, backdoor, poison };
}

/** The part of a poisoned file's `abl_audit.poison` record the bench checks and reports. */
type RecordedPoison = Pick<PoisonSummary, 'attack' | 'rate' | 'target' | 'seed' | 'rows' | 'poisoned'> & {
  /** Absent in files of the `eligible` reading (and in files made before the option). */
  readonly rateOf?: RateOf;
};

async function recordedPoison(file: string): Promise<RecordedPoison> {
  for await (const { batch } of iterateDataset(file)) {
    const json = batch.schema.metadata.get(POISON_METADATA_KEY);
    if (json === undefined) break;
    return JSON.parse(json) as RecordedPoison;
  }
  throw new Error(`${file} has no ${POISON_METADATA_KEY} metadata; delete it to remake it`);
}

/**
 * The no-defense model: what `abl-audit train` does with its defaults (see {@link BASELINE}): the same
 * reading of the data, trainer and schedule as src/cli/actions/trainBaseline.ts, on the audit's threads
 * so that the time ratio compares like with like.
 */
async function noDefense(train: string, test: string, backdoor: string | null) {
  const started = performance.now();
  const training = await readTrainingData(train, {});
  const trainer = await createTrainer(training, {
    architecture: BASELINE.architecture,
    seed: BASELINE.seed,
    optimizer: { kind: BASELINE.optimizer, lr: BASELINE.lr, momentum: 0, nesterov: false, weightDecay: 0 },
    threads,
    batchSize: BASELINE.batchSize,
  });
  const schedule = cosineSchedule({ epochs: BASELINE.epochs });
  try {
    for (let e = 0; e < BASELINE.epochs; e++) {
      await trainEpoch(
        trainer.model,
        training.data.batchesForEpoch(e, {
          batchSize: BASELINE.batchSize,
          seed: BASELINE.seed,
          augment: BASELINE.augment,
        }),
        {
          optimizer: trainer.optimizer,
          objective: crossEntropyObjective,
          learningRate: schedule(e, BASELINE.lr),
          weightDecay: BASELINE.weightDecay,
          parallel: trainer.parallel,
        },
      );
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const evalB = (p: string) =>
      readDataset(p).pipe(decodeExamples({}), toTrainBatches({ batchSize: 256, seed: 0, shuffleBuffer: 1 }));
    const ca = await accuracy(trainer.model, evalB(test), { parallel: trainer.parallel });
    const asr = backdoor
      ? await attackSuccessRate(trainer.model, evalB(backdoor), TARGET, { parallel: trainer.parallel })
      : null;
    const augmentation = resolveAugment(BASELINE.augment, training.shape);
    return {
      seconds: trainSeconds,
      cleanAccuracy: ca.accuracy,
      targetClassAccuracy: ca.perClass[TARGET]?.accuracy ?? null,
      attackSuccessRate: asr?.rate ?? null,
      settings: {
        optimizer: BASELINE.optimizer,
        lr: BASELINE.lr,
        schedule: BASELINE.schedule,
        epochs: BASELINE.epochs,
        batchSize: BASELINE.batchSize,
        augment: augmentation
          ? `${BASELINE.augment}: crop (padding ${augmentation.padding})${augmentation.flip ? ' and flip' : ''}`
          : `${BASELINE.augment}: none`,
        architecture: BASELINE.architecture,
        source: 'abl-audit train defaults',
      },
    };
  } finally {
    await trainer.dispose();
  }
}

async function main(): Promise<void> {
  const unknown = wanted.filter((w) => w !== 'none' && !CASES.some((c) => c.name === w));
  if (unknown.length) {
    throw new Error(
      `ABL_BENCH_ATTACKS: unknown ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')}, or none)`,
    );
  }
  const backend = await initBackend({ prefer: 'auto', log: (l) => console.error(l) });
  const clean = await prepare();
  await mkdir(resultsDir, { recursive: true });
  const suffix =
    `${threads === 'auto' ? '' : `-threads${threads}`}${fixedRatio === null ? '' : `-ratio${fixedRatio}`}` +
    `${tag === null ? '' : `-${tag}`}`;
  for (const c of CASES.filter((x) => wanted.includes(x.name))) {
    console.error(`== ${c.label}${tag === null ? '' : ` [${tag}]`}`);
    const sets = await poisonSets(c, clean);
    const none = await noDefense(sets.train, clean.test, sets.backdoor);
    console.error(
      `no defense: CA ${(none.cleanAccuracy * 100).toFixed(2)}%, ASR ${none.attackSuccessRate === null ? 'n/a' : `${(none.attackSuccessRate * 100).toFixed(2)}%`}, ${none.seconds.toFixed(0)} s`,
    );
    const auditOut = join(dir, 'audits', `${caseName(c)}${suffix}`);
    const merged = deepMerge<AuditConfig>(
      {
        ...PRESET,
        train: sets.train,
        out: auditOut,
        test: clean.test,
        backdoorTest: sets.backdoor,
        attackTarget: TARGET,
        threads,
      },
      configOverrides,
    );
    const config: AuditConfig =
      fixedRatio === null ? merged : { ...merged, isolation: { ...merged.isolation, ratio: fixedRatio } };
    const started = performance.now();
    const { report } = await runAudit(config, { log: (l) => console.error(`  ${l}`) });
    const auditSeconds = (performance.now() - started) / 1000;
    const gt = report.isolation.groundTruth;
    const abl = report.metrics.cleanedModel;
    const result = {
      attack: c.name,
      label: c.label,
      tag,
      rows,
      rate: sets.poison?.rate ?? 0,
      rateOf: sets.poison ? c.rateOf : null,
      poisoned: gt?.poisoned ?? null,
      poisonedShare: sets.poison ? sets.poison.poisoned / sets.poison.rows : 0,
      preset: presetName,
      auditConfig: configOverrides,
      noDefense: none,
      audit: {
        seconds: auditSeconds,
        verdict: report.summary.verdict,
        flaggedClasses: report.summary.flaggedClasses,
        split: report.detection?.split ?? 'fixed',
        review: report.summary.review,
        reviewPoisoned: await reviewPoisoned(auditOut),
        isolated: report.isolation.isolated,
        precision: gt?.precision ?? null,
        maxPrecision: gt?.maxPrecision ?? null,
        recall: gt?.recall ?? null,
        auroc: gt?.auroc ?? null,
        suspectedTarget: report.summary.suspectedTargetClass,
        cleanAccuracy: abl.cleanAccuracy?.value ?? null,
        targetClassAccuracy: abl.cleanAccuracy?.perClass[TARGET]?.accuracy ?? null,
        attackSuccessRate: abl.attackSuccessRate?.value ?? null,
        afterIsolation: {
          cleanAccuracy: report.metrics.afterIsolation.cleanAccuracy?.value ?? null,
          attackSuccessRate: report.metrics.afterIsolation.attackSuccessRate?.value ?? null,
        },
        guardStopped: report.unlearning.guard.stopped,
        unlearning: report.unlearning.epochs,
        timings: report.timings,
      },
      targets: {
        precision: 0.98,
        attackSuccessRate: c.asrTarget,
        cleanAccuracyDrop: 0.02,
        targetClassDrop: 0.05,
        timeRatio: 2,
      },
      threads: report.backend.threads,
      machine: machine(backend.name),
    };
    const file = `${c.name}${suffix}.json`;
    await writeFile(join(resultsDir, file), `${JSON.stringify(result, null, 2)}\n`);
    console.error(
      `audit: precision ${gt?.precision}, CA ${abl.cleanAccuracy?.value}, ASR ${abl.attackSuccessRate?.value}, ${auditSeconds.toFixed(0)} s`,
    );
  }
  await combine();
}

/** Poisoned rows in the audit's review band (ground truth), or null without one. */
async function reviewPoisoned(out: string): Promise<number | null> {
  const folder = join(out, 'review');
  if (!existsSync(folder) || (await readdir(folder)).length === 0) return 0;
  let poisoned = 0;
  for await (const { batch } of iterateDataset(folder)) {
    const truth = batch.getChild('poisoned');
    if (!truth) return null;
    for (let i = 0; i < batch.numRows; i++) if (truth.get(i) === true) poisoned++;
  }
  return poisoned;
}

function machine(backend: string) {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage1m: loadavg()[0],
    node: process.versions.node,
    backend,
    versions: installedVersions(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']),
    date: new Date().toISOString(),
  };
}

/** The no-defense settings a result records; results written before they were recorded lack them. */
interface BaselineSettings {
  readonly optimizer: string;
  readonly lr: number;
  readonly schedule: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly augment?: string;
}

function describeSettings(s: BaselineSettings | undefined): string {
  if (!s) {
    return "not recorded (results before the settings were: the audit's optimizer, SGD 0.01 Nesterov, for isolation + unlearning epochs)";
  }
  return (
    `${s.optimizer}, lr ${s.lr}, ${s.schedule} schedule, ${s.epochs} epochs, batch ${s.batchSize}` +
    `${s.augment ? `, augment ${s.augment}` : ''}`
  );
}

/**
 * Merges every attack's latest result into abl-fmnist.json and prints the README table, with the
 * no-defense settings under it. Results of earlier versions of this file (no `tag`, `rateOf`,
 * `poisonedShare` or `noDefense.settings`) are shown too.
 */
async function combine(): Promise<void> {
  const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort();
  const results = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(resultsDir, f), 'utf8'))),
  );
  // By case, then by file name (stable: variants of a case sit together). Array.prototype.sort is stable.
  results.sort(
    (a, b) => CASES.findIndex((c) => c.name === a.attack) - CASES.findIndex((c) => c.name === b.attack),
  );
  await writeFile(
    'bench/results/abl-fmnist.json',
    `${JSON.stringify({ benchmark: 'abl-fmnist', command: 'npm run bench:abl', results }, null, 2)}\n`,
  );
  const pct = (v: number | null | undefined) =>
    v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`;
  const lines = [
    '| Attack | Poisoned (share of all rows, rate of) | Verdict | Quarantine: rows, precision, recall | Review (poisoned) | No defense CA / ASR | Audit CA / ASR | Target-class acc. (none → audit) | Time (none / audit) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const settings = new Map<string, string[]>();
  for (const r of results) {
    const a = r.audit;
    const verdict = a.verdict
      ? `${a.verdict}${a.flaggedClasses?.length ? ` (${a.flaggedClasses.join(', ')})` : ''}`
      : 'n/a';
    const split = a.split === 'fixed' ? ' [fixed 1%]' : '';
    const name =
      `${r.label}${r.threads === undefined ? '' : ` (${r.threads} thread${r.threads === 1 ? '' : 's'})`}${split}` +
      `${r.tag ? ` — ${r.tag}` : ''}`;
    lines.push(
      `| ${name} | ${poisonedCell(r)} | ${verdict} | ${a.isolated}, ${a.isolated ? pct(a.precision) : '—'}, ${pct(a.recall)} | ${a.review ?? 0} (${a.reviewPoisoned ?? 'n/a'}) | ${pct(r.noDefense.cleanAccuracy)} / ${pct(r.noDefense.attackSuccessRate)} | ${pct(a.cleanAccuracy)} / ${pct(a.attackSuccessRate)} | ${pct(r.noDefense.targetClassAccuracy)} → ${pct(a.targetClassAccuracy)} | ${r.noDefense.seconds.toFixed(0)} s / ${a.seconds.toFixed(0)} s (${(a.seconds / r.noDefense.seconds).toFixed(2)}×) |`,
    );
    const described = describeSettings(r.noDefense.settings);
    settings.set(described, [...(settings.get(described) ?? []), name]);
  }
  lines.push(
    '',
    'Poisoned: rows, their share of all training rows, and what the rate was a share of (`all` rows or the ' +
      '`eligible` ones; a result that does not record it predates the option: `eligible`).',
    '',
    'No-defense model:',
  );
  for (const [described, names] of settings) lines.push(`- ${described}: ${names.join('; ')}`);
  console.log(lines.join('\n'));
}

/** "1000 (10.00%, all)": the poisoned rows, their share of all rows and the rate's reading. */
function poisonedCell(r: {
  rows: number;
  poisoned: number | null;
  rateOf?: RateOf | null;
  poisonedShare?: number;
}): string {
  const poisoned = r.poisoned ?? 0;
  if (poisoned === 0) return '0';
  const share = r.poisonedShare ?? poisoned / r.rows;
  return `${poisoned} (${(share * 100).toFixed(2)}%, ${r.rateOf ?? 'eligible'})`;
}

await main();
