/**
 * `npm run bench:abl`: does the audit work? For each attack, on a Fashion-MNIST training subset (from
 * Debian's dataset-fashion-mnist) and the full test set: a no-defense model trained for as many epochs
 * as the audit trains (isolation + unlearning), then the audit with its defaults. Writes one JSON per
 * attack under bench/results/abl-fmnist/, then bench/results/abl-fmnist.json and a Markdown table
 * combining every attack's latest result.
 *
 * Environment:
 *   ABL_BENCH_ROWS     training rows (default 10000: the first rows of the training file, which is in
 *                      random order already)
 *   ABL_BENCH_ATTACKS  comma-separated subset of: clean, badnets-10, blend-10, wanet-10, sig, badnets-1
 *                      (default all; run two subsets in two processes to use both cores)
 *   ABL_BENCH_DIR      where the data sets are made (default data/bench)
 *   ABL_BENCH_THREADS  threads the no-defense model and the audit train on (default auto: every core);
 *                      a number other than auto writes <attack>-threads<N>.json, so a one-thread run
 *                      sits next to the default one for comparison
 *   FASHION_MNIST_DIR  folder of the IDX files (default /usr/share/datasets/fashion-mnist)
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import { AUDIT_DEFAULTS } from '../../src/config/auditConfig.js';
import { decodeExamples } from '../../src/data/decodeExamples.js';
import { FASHION_MNIST_DEFAULT_DIR, importFashionMnist } from '../../src/import/importFashionMnist.js';
import { iterateDataset, readDataset } from '../../src/io/readDataset.js';
import { runAudit } from '../../src/pipeline/runAudit.js';
import { type AttackParams, poisonDataset, poisonTestSet } from '../../src/poison/poisonDataset.js';
import { initBackend } from '../../src/train/backend.js';
import { epochSource } from '../../src/train/batches/epochs.js';
import { toTrainBatches } from '../../src/train/batches/toTrainBatches.js';
import { accuracy, attackSuccessRate } from '../../src/train/evaluate.js';
import { crossEntropyObjective } from '../../src/train/losses.js';
import { createModel } from '../../src/train/models/createModel.js';
import { createOptimizer } from '../../src/train/optim.js';
import { createDataParallel } from '../../src/train/parallel/dataParallel.js';
import { trainEpoch } from '../../src/train/trainEpoch.js';
import { installedVersions } from '../../src/util/packageVersions.js';
import { writeSubset } from './subset.js';

interface AttackCase {
  readonly name: string;
  readonly label: string;
  /** null: the clean subset itself (the audit must find nothing). */
  readonly attack: AttackParams | null;
  readonly rate: number;
  readonly crossRatio?: number;
  /** The issue's attack-success target for the audited model. */
  readonly asrTarget: number;
}

const CASES: readonly AttackCase[] = [
  { name: 'clean', label: 'Clean data (no poison)', attack: null, rate: 0, asrTarget: 1 },
  {
    name: 'badnets-10',
    label: 'BadNets 3×3 grid 10%',
    attack: { attack: 'badnets', patch: 'grid' },
    rate: 0.1,
    asrTarget: 0.02,
  },
  {
    name: 'blend-10',
    label: 'Blend (noise, α 0.2) 10%',
    attack: { attack: 'blend', alpha: 0.2 },
    rate: 0.1,
    asrTarget: 0.1,
  },
  {
    name: 'wanet-10',
    label: 'WaNet (k 4, s 0.5, noise mode) 10%',
    attack: { attack: 'wanet', k: 4, s: 0.5 },
    rate: 0.1,
    crossRatio: 2,
    asrTarget: 0.1,
  },
  {
    name: 'sig',
    label: 'SIG clean-label (half the target class)',
    attack: { attack: 'sig', alpha: 0.2, frequency: 6 },
    rate: 0.5,
    asrTarget: 0.1,
  },
  {
    name: 'badnets-1',
    label: 'BadNets 3×3 grid 1%',
    attack: { attack: 'badnets', patch: 'grid' },
    rate: 0.01,
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
): Promise<{ train: string; backdoor: string | null }> {
  if (c.attack === null) return { train: clean.train, backdoor: null };
  const base = join(dir, `${c.name}-${rows}`);
  const train = join(base, 'train.parquet');
  const backdoor = join(base, 'test-backdoor.parquet');
  const options = {
    attack: c.attack,
    rate: c.rate,
    target: TARGET,
    seed: SEED,
    crossRatio: c.crossRatio ?? 0,
  };
  if (!existsSync(train)) await poisonDataset(clean.train, train, options);
  if (!existsSync(backdoor)) await poisonTestSet(clean.test, backdoor, options);
  return { train, backdoor };
}

/** The no-defense model: plain cross-entropy, same model, optimizer, batch and epoch count as the audit. */
async function noDefense(train: string, test: string, backdoor: string | null, epochs: number) {
  const started = performance.now();
  const data = epochSource(() => readDataset(train).pipe(decodeExamples({})), { cache: true });
  const shape = await lastValueFrom(
    data.forEpoch(0).pipe(reduce((s, b) => s ?? b.shape, null as null | ReturnType<typeof Object>)),
  );
  const model = createModel({
    architecture: AUDIT_DEFAULTS.model,
    inputShape: shape as never,
    numClasses: 10,
    seed: SEED,
  });
  const optimizer = createOptimizer({
    kind: 'sgd',
    lr: AUDIT_DEFAULTS.learningRate,
    momentum: 0.9,
    nesterov: true,
  });
  // The same threads as the audit, so the time ratio compares like with like.
  const parallel = await createDataParallel(model, { threads });
  for (let e = 0; e < epochs; e++) {
    await trainEpoch(
      model,
      data.batchesForEpoch(e, { batchSize: AUDIT_DEFAULTS.batchSize, seed: SEED, augment: false }),
      {
        optimizer,
        objective: crossEntropyObjective,
        learningRate: AUDIT_DEFAULTS.learningRate,
        parallel,
      },
    );
  }
  const trainSeconds = (performance.now() - started) / 1000;
  const evalB = (p: string) =>
    readDataset(p).pipe(decodeExamples({}), toTrainBatches({ batchSize: 256, seed: 0, shuffleBuffer: 1 }));
  const ca = await accuracy(model, evalB(test), { parallel });
  const asr = backdoor ? await attackSuccessRate(model, evalB(backdoor), TARGET, { parallel }) : null;
  await parallel.dispose();
  model.dispose();
  optimizer.dispose();
  return {
    seconds: trainSeconds,
    cleanAccuracy: ca.accuracy,
    targetClassAccuracy: ca.perClass[TARGET]?.accuracy ?? null,
    attackSuccessRate: asr?.rate ?? null,
  };
}

async function main(): Promise<void> {
  const backend = await initBackend({ prefer: 'auto', log: (l) => console.error(l) });
  const clean = await prepare();
  await mkdir(resultsDir, { recursive: true });
  const epochs = AUDIT_DEFAULTS.isolation.epochs + AUDIT_DEFAULTS.unlearning.epochs;
  for (const c of CASES.filter((x) => wanted.includes(x.name))) {
    console.error(`== ${c.label}`);
    const sets = await poisonSets(c, clean);
    const none = await noDefense(sets.train, clean.test, sets.backdoor, epochs);
    console.error(
      `no defense: CA ${(none.cleanAccuracy * 100).toFixed(2)}%, ASR ${none.attackSuccessRate === null ? 'n/a' : `${(none.attackSuccessRate * 100).toFixed(2)}%`}, ${none.seconds.toFixed(0)} s`,
    );
    const started = performance.now();
    const { report } = await runAudit(
      {
        ...AUDIT_DEFAULTS,
        train: sets.train,
        out: join(dir, 'audits', `${c.name}-${rows}`),
        test: clean.test,
        backdoorTest: sets.backdoor,
        isolation: { ...AUDIT_DEFAULTS.isolation, ratio: fixedRatio },
        attackTarget: TARGET,
        threads,
      },
      { log: (l) => console.error(`  ${l}`) },
    );
    const auditSeconds = (performance.now() - started) / 1000;
    const gt = report.isolation.groundTruth;
    const abl = report.metrics.cleanedModel;
    const result = {
      attack: c.name,
      label: c.label,
      rows,
      poisoned: gt?.poisoned ?? null,
      noDefense: none,
      audit: {
        seconds: auditSeconds,
        verdict: report.summary.verdict,
        flaggedClasses: report.summary.flaggedClasses,
        split: report.detection?.split ?? 'fixed',
        review: report.summary.review,
        reviewPoisoned: await reviewPoisoned(join(dir, 'audits', `${c.name}-${rows}`)),
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
    const suffix = `${threads === 'auto' ? '' : `-threads${threads}`}${fixedRatio === null ? '' : `-ratio${fixedRatio}`}`;
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

/** Merges every attack's latest result into abl-fmnist.json and prints the README table. */
async function combine(): Promise<void> {
  const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json'));
  const results = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(resultsDir, f), 'utf8'))),
  );
  results.sort(
    (a, b) => CASES.findIndex((c) => c.name === a.attack) - CASES.findIndex((c) => c.name === b.attack),
  );
  await writeFile(
    'bench/results/abl-fmnist.json',
    `${JSON.stringify({ benchmark: 'abl-fmnist', command: 'npm run bench:abl', results }, null, 2)}\n`,
  );
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
  const lines = [
    '| Attack | Poisoned | Verdict | Quarantine: rows, precision, recall | Review (poisoned) | No defense CA / ASR | Audit CA / ASR | Target-class acc. (none → audit) | Time (none / audit) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const a = r.audit;
    const verdict = a.verdict
      ? `${a.verdict}${a.flaggedClasses?.length ? ` (${a.flaggedClasses.join(', ')})` : ''}`
      : 'n/a';
    const split = a.split === 'fixed' ? ' [fixed 1%]' : '';
    lines.push(
      `| ${r.label}${r.threads === undefined ? '' : ` (${r.threads} thread${r.threads === 1 ? '' : 's'})`}${split} | ${r.poisoned ?? 0} | ${verdict} | ${a.isolated}, ${a.isolated ? pct(a.precision) : '—'}, ${pct(a.recall)} | ${a.review ?? 0} (${a.reviewPoisoned ?? 'n/a'}) | ${pct(r.noDefense.cleanAccuracy)} / ${pct(r.noDefense.attackSuccessRate)} | ${pct(a.cleanAccuracy)} / ${pct(a.attackSuccessRate)} | ${pct(r.noDefense.targetClassAccuracy)} → ${pct(a.targetClassAccuracy)} | ${r.noDefense.seconds.toFixed(0)} s / ${a.seconds.toFixed(0)} s (${(a.seconds / r.noDefense.seconds).toFixed(2)}×) |`,
    );
  }
  console.log(lines.join('\n'));
}

await main();
