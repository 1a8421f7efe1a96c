/**
 * `npm run bench:signals`: measures, before any detector is built on them, how well candidate
 * per-row signals separate poisoned from clean rows, epoch by epoch, on the benchmark sets (issue 15:
 * "measure first"). For each set a probe model trains from scratch and, after every epoch, every row
 * is scored in inference mode. Signals, each as an AUROC against the ground truth (1 = every poisoned
 * row scores above every clean one, 0.5 = chance), over all rows and inside the target class:
 *
 *   low-loss    −loss: learned fast (ABL's assumption)
 *   high-loss   loss: looks mislabelled (a dirty-label row whose trigger is not learned yet)
 *   mean-low    −mean log-loss over the epochs so far (the audit's current score)
 *   traj-knn    distance of the row's log-loss trajectory to its k nearest trajectories among rows of
 *               other labels (free clean references for an all-to-one attack: BSD's idea, BaDLoss's
 *               score), large = anomalous either way
 *
 * and per class: the share of the class in the lowest 2% of losses over its prior, per epoch, to see
 * when and whether the target class stands out.
 *
 * Environment: ABL_SIGNALS_SETS (default every set under data/bench/*-10000 with a train.parquet),
 * ABL_SIGNALS_EPOCHS (12), ABL_SIGNALS_OBJECTIVE (ce or lga, default ce), ABL_SIGNALS_THREADS (auto),
 * ABL_SIGNALS_DUMP (a folder: also writes every row's per-epoch losses, labels and ground truth there as
 * <set>-<objective>.json, for analysis beyond the AUROCs).
 * Writes bench/results/signals/<set>-<objective>.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { iterateDataset } from '../../src/io/readDataset.js';
import { initBackend } from '../../src/train/backend.js';
import { crossEntropyObjective, lgaBatchMean } from '../../src/train/losses.js';
import { createTrainer } from '../../src/train/scaffold/createTrainer.js';
import { readTrainingData } from '../../src/train/scaffold/readTrainingData.js';
import { scoreLosses } from '../../src/train/scoreLosses.js';
import { trainEpoch } from '../../src/train/trainEpoch.js';

const BENCH = 'data/bench';
const EPOCHS = Number(process.env.ABL_SIGNALS_EPOCHS ?? 12);
const OBJECTIVE = process.env.ABL_SIGNALS_OBJECTIVE ?? 'ce';
const THREADS =
  process.env.ABL_SIGNALS_THREADS === undefined ? 'auto' : Number(process.env.ABL_SIGNALS_THREADS);
const TARGET = 0;
const K = 50;

/** AUROC of `score` as a detector of `positive` (Mann-Whitney, ties counted half). */
function auroc(
  score: ArrayLike<number>,
  positive: ArrayLike<boolean>,
  rows?: readonly number[],
): number | null {
  const idx = rows ?? Array.from({ length: score.length }, (_, i) => i);
  const sorted = [...idx].sort((a, b) => (score[a] as number) - (score[b] as number));
  let pos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && score[sorted[j + 1] as number] === score[sorted[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++)
      if (positive[sorted[t] as number]) {
        pos++;
        rankSum += avgRank;
      }
    i = j + 1;
  }
  const neg = sorted.length - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean distance of each row's trajectory to its K nearest trajectories among rows of other labels. */
function trajectoryKnn(traj: Float32Array[], labels: Int32Array, target: readonly number[]): Float64Array {
  const n = labels.length;
  const e = traj.length;
  const out = new Float64Array(n);
  // Reference: a sample of 1,500 rows (enough for k = 50), distances computed for the target rows
  // and a sample of others, which is all the AUROCs below read.
  const stride = Math.max(1, Math.floor(n / 1500));
  const refs = Array.from({ length: Math.ceil(n / stride) }, (_, k) => k * stride).filter((r) => r < n);
  for (const i of target) {
    const d: number[] = [];
    for (const r of refs) {
      if (labels[r] === labels[i]) continue;
      let s = 0;
      for (let t = 0; t < e; t++) {
        const x =
          Math.log(Math.max(1e-12, traj[t]?.[i] as number)) -
          Math.log(Math.max(1e-12, traj[t]?.[r] as number));
        s += x * x;
      }
      d.push(Math.sqrt(s));
    }
    d.sort((a, b) => a - b);
    out[i] = d.slice(0, K).reduce((a, b) => a + b, 0) / K;
  }
  return out;
}

async function groundTruth(train: string): Promise<boolean[]> {
  const truth: boolean[] = [];
  for await (const sb of iterateDataset(train)) {
    const col = sb.batch.getChild('poisoned');
    for (let i = 0; i < sb.batch.numRows; i++) truth.push(col?.get(i) === true);
  }
  return truth;
}

async function measure(set: string): Promise<unknown> {
  const train = join(BENCH, set, 'train.parquet');
  const training = await readTrainingData(train, {});
  const poisoned = await groundTruth(train);
  const trainer = await createTrainer(training, {
    architecture: 'small-cnn',
    seed: 1,
    optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true },
    batchSize: 64,
    threads: THREADS,
  });
  const objective = OBJECTIVE === 'lga' ? lgaBatchMean(0.5) : crossEntropyObjective;
  const losses: Float32Array[] = [];
  let labels = new Int32Array(0);
  const epochs: unknown[] = [];
  const started = performance.now();
  try {
    for (let e = 0; e < EPOCHS; e++) {
      await trainEpoch(
        trainer.model,
        training.data.batchesForEpoch(e, { batchSize: 64, seed: 1, augment: false }),
        {
          optimizer: trainer.optimizer,
          objective,
          learningRate: 0.01,
          parallel: trainer.parallel,
        },
      );
      const records = await lastValueFrom(
        training.data.forEpoch(e).pipe(scoreLosses(trainer.model, { parallel: trainer.parallel }), toArray()),
      );
      labels = Int32Array.from(records, (r) => r.label);
      const loss = Float32Array.from(records, (r) => r.loss);
      losses.push(loss);
      const targetRows = labels.reduce<number[]>((acc, l, i) => {
        if (l === TARGET) acc.push(i);
        return acc;
      }, []);
      const meanLog = Float64Array.from(
        loss,
        (_, i) => losses.reduce((s, l) => s + Math.log(Math.max(1e-12, l[i] as number)), 0) / losses.length,
      );
      const neg = (a: ArrayLike<number>) => Float64Array.from(a as ArrayLike<number>, (v) => -v);
      const knn = trajectoryKnn(losses, labels, targetRows);
      // Per class: its share of the lowest 2% of losses, over its share of the data.
      const order = [...loss.keys()].sort((a, b) => (loss[a] as number) - (loss[b] as number));
      const low = order.slice(0, Math.ceil(0.02 * order.length));
      const classes = Math.max(...labels) + 1;
      const lift = Array.from({ length: classes }, (_, c) => {
        const inLow = low.filter((i) => labels[i] === c).length / low.length;
        const prior = labels.filter((l) => l === c).length / labels.length;
        return Math.round((inLow / prior) * 100) / 100;
      });
      const row = {
        epoch: e + 1,
        lowLoss: { all: auroc(neg(loss), poisoned), target: auroc(neg(loss), poisoned, targetRows) },
        highLoss: { all: auroc(loss, poisoned), target: auroc(loss, poisoned, targetRows) },
        meanLow: { all: auroc(neg(meanLog), poisoned), target: auroc(neg(meanLog), poisoned, targetRows) },
        trajKnn: { target: auroc(knn, poisoned, targetRows) },
        lowestShareLift: lift,
      };
      epochs.push(row);
      const f = (v: number | null) => (v === null ? '  -  ' : v.toFixed(3));
      console.error(
        `${set} e${e + 1}: low ${f(row.lowLoss.all)}/${f(row.lowLoss.target)} high ${f(row.highLoss.all)}/${f(row.highLoss.target)} meanLow ${f(row.meanLow.all)}/${f(row.meanLow.target)} knn ${f(row.trajKnn.target)} lift[0] ${lift[0]} max ${Math.max(...lift)}`,
      );
    }
  } finally {
    await trainer.dispose();
  }
  const dump = process.env.ABL_SIGNALS_DUMP;
  if (dump) {
    await mkdir(dump, { recursive: true });
    const rows = {
      labels: Array.from(labels),
      poisoned,
      losses: losses.map((l) => Array.from(l, (v) => Number(v.toPrecision(5)))),
    };
    await writeFile(join(dump, `${set}-${OBJECTIVE}.json`), JSON.stringify(rows));
  }
  return {
    set,
    objective: OBJECTIVE,
    epochs: EPOCHS,
    poisoned: poisoned.filter(Boolean).length,
    rows: poisoned.length,
    seconds: (performance.now() - started) / 1000,
    perEpoch: epochs,
  };
}

async function main(): Promise<void> {
  await initBackend({ prefer: 'auto', log: (l) => console.error(l) });
  const sets =
    process.env.ABL_SIGNALS_SETS?.split(',') ??
    (await readdir(BENCH)).filter((d) => d.endsWith('-10000') && existsSync(join(BENCH, d, 'train.parquet')));
  await mkdir('bench/results/signals', { recursive: true });
  for (const set of sets) {
    const result = await measure(set);
    const file = join('bench/results/signals', `${set}-${OBJECTIVE}.json`);
    await writeFile(
      file,
      `${JSON.stringify({ machine: `${cpus().length} × ${cpus()[0]?.model}`, date: new Date().toISOString(), ...(result as object) }, null, 1)}\n`,
    );
    console.error(`wrote ${file}`);
  }
}

await main();
