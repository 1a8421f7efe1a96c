import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ggaObjective } from '../../../../src/abl/ggaObjective.js';
import type { ImageShape } from '../../../../src/data/imageShape.js';
import { ErrorCode, TrainError, UsageError } from '../../../../src/errors.js';
import { initBackend } from '../../../../src/train/backend.js';
import { crossEntropyObjective, lgaBatchMean, type Objective } from '../../../../src/train/losses.js';
import { type Architecture, createModel } from '../../../../src/train/models/createModel.js';
import { createOptimizer, type TrainOptimizer } from '../../../../src/train/optim.js';
import {
  createDataParallel,
  type DataParallel,
  MIN_ROWS_PER_THREAD,
  resolveThreads,
} from '../../../../src/train/parallel/dataParallel.js';
import { scoreBatch } from '../../../../src/train/scoreLosses.js';
import { trainStep } from '../../../../src/train/trainStep.js';
import type { TrainBatch } from '../../../../src/train/types.js';
import { mulberry32 } from '../../../../src/util/random.js';
import { expectNoLeakedTensors } from '../../../helpers/tf.js';

// The wasm backend, as the product trains on it; 8×8 inputs keep each step a few milliseconds.
const SHAPE: ImageShape = { height: 8, width: 8, channels: 1 };
const K = 4;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm', env: {} });
});

/**
 * Random rows whose brightness rises with the row index, so the halves each thread gets have
 * clearly different batch statistics: per-shard batch norm would show.
 */
function rows(n: number, seed: number, prefix = 'r'): TrainBatch {
  const rng = mulberry32(seed);
  const size = SHAPE.height * SHAPE.width * SHAPE.channels;
  const images = new Uint8Array(n * size);
  for (let i = 0; i < n; i++) {
    const level = (i / n) * 160;
    for (let p = 0; p < size; p++) images[i * size + p] = Math.floor(level + rng() * 95);
  }
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % K);
  return { ids: Array.from({ length: n }, (_, i) => `${prefix}${i}`), images, labels, shape: SHAPE };
}

interface Trainee {
  readonly model: tf.LayersModel;
  readonly optimizer: TrainOptimizer;
}
const owned: { dispose(): unknown }[] = [];
function trainee(architecture: Architecture): Trainee {
  const model = createModel({ architecture, inputShape: SHAPE, numClasses: K, seed: 7 });
  owned.push(model);
  return { model, optimizer: newOptimizer() };
}
function newOptimizer(): TrainOptimizer {
  const optimizer = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false });
  owned.push(optimizer);
  return optimizer;
}
afterEach(async () => {
  for (const o of owned.splice(0).reverse()) await o.dispose();
});

/** A model with a two-thread group started for it, and its initial weights to start each test from. */
interface Shared {
  readonly model: tf.LayersModel;
  readonly parallel: DataParallel;
  readonly initial: readonly tf.Tensor[];
}
// Starting a group costs a second or two (each worker loads tsx, the backend and the model), most of
// a test's time here. Tests that only train or score through a group share one per architecture: every
// command sends the calling thread's weights (batch-norm averages included) to the workers, so nothing
// one test does carries over once the weights are reset. Tests that break or dispose their group start
// their own.
const shared = new Map<Architecture, Promise<Shared>>();
async function sharedGroup(architecture: Architecture): Promise<Shared> {
  let group = shared.get(architecture);
  if (group === undefined) {
    group = (async () => {
      const model = createModel({ architecture, inputShape: SHAPE, numClasses: K, seed: 7 });
      const initial = model.getWeights().map((w) => w.clone());
      return { model, parallel: await createDataParallel(model, { threads: 2 }), initial };
    })();
    shared.set(architecture, group);
  }
  const ready = await group;
  // The weights `trainee` gives a fresh model of this architecture.
  ready.model.setWeights([...ready.initial]);
  expect(ready.parallel.replicas).toBe(2);
  return ready;
}
afterAll(async () => {
  for (const group of shared.values()) {
    const { model, parallel, initial } = await group;
    await parallel.dispose();
    model.dispose();
    tf.dispose([...initial]);
  }
});

/** The shared group of `architecture`, with a fresh optimizer like {@link trainee}'s. */
async function sharedTrainee(architecture: Architecture): Promise<Trainee & { parallel: DataParallel }> {
  const { model, parallel } = await sharedGroup(architecture);
  return { model, optimizer: newOptimizer(), parallel };
}

/** Largest absolute difference between the two models' weights (trainable and not), by position. */
function weightDifference(a: tf.LayersModel, b: tf.LayersModel): number {
  let worst = 0;
  a.weights.forEach((w, i) => {
    const x = w.read().dataSync();
    const y = (b.weights[i] as tf.LayerVariable).read().dataSync();
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs((x[j] as number) - (y[j] as number)));
  });
  return worst;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/**
 * Trains two identical models on the same batches, one on the calling thread and one split across two
 * threads, and returns how far apart they ended.
 */
async function sideBySide(
  architecture: Architecture,
  batches: readonly TrainBatch[],
  objective: Objective,
): Promise<{ weights: number; losses: number[]; perExample: number[]; parallel: DataParallel }> {
  const one = trainee(architecture);
  const two = await sharedTrainee(architecture);
  const { parallel } = two;
  const losses: number[] = [];
  const perExample: number[] = [];
  for (const batch of batches) {
    const a = trainStep(one.model, one.optimizer, batch, objective, { perExample: true });
    const b = trainStep(two.model, two.optimizer, batch, objective, { perExample: true, parallel });
    losses.push(Math.abs(a.loss - b.loss));
    perExample.push(maxDifference(a.perExample as Float32Array, b.perExample as Float32Array));
  }
  return { weights: weightDifference(one.model, two.model), losses, perExample, parallel };
}

describe('createDataParallel', () => {
  it('splits a SmallCNN step across two threads with the one-thread result', async () => {
    const batches = [rows(48, 1), rows(48, 2), rows(48, 3)];
    const result = await sideBySide('small-cnn', batches, crossEntropyObjective);
    // Float32 rounding only: the batch's gradient is summed as two halves instead of one.
    expect(result.weights).toBeLessThan(1e-5);
    for (const d of [...result.losses, ...result.perExample]) expect(d).toBeLessThan(1e-5);
  });

  it('normalises batch norm over the whole batch, not each thread’s half', async () => {
    const result = await sideBySide('resnet8', [rows(48, 4)], crossEntropyObjective);
    // Measured: about 4e-6 on the losses and 2e-7 on the weights after one step; per-thread
    // statistics ("ghost" batch norm) put them 0.17 and 0.03 apart on these rows.
    expect(result.perExample[0]).toBeLessThan(1e-4);
    expect(result.losses[0]).toBeLessThan(1e-5);
    // Moving averages included: model.weights holds them.
    expect(result.weights).toBeLessThan(1e-4);
  });

  it('evaluates the objective on the whole batch: batch-mean LGA and the unlearning objective', async () => {
    const batches = [rows(40, 5), rows(40, 6)];
    const lga = await sideBySide('small-cnn', batches, lgaBatchMean(2));
    expect(lga.weights).toBeLessThan(1e-5);
    // Rows of both threads' halves are ascended.
    const gga = await sideBySide('small-cnn', batches, ggaObjective(new Set(['r1', 'r5', 'r30', 'r39'])));
    expect(gga.weights).toBeLessThan(1e-5);
    for (const d of gga.losses) expect(d).toBeLessThan(1e-5);
  });

  it('scores across threads with exactly the one-thread records, weights sent again when they change', async () => {
    const { model, parallel } = await sharedGroup('resnet8');
    const batch = rows(300, 8);
    const alone = await scoreBatch(model, batch);
    const split = await expectNoLeakedTensors(() => scoreBatch(model, batch, { parallel }));
    expect(split).toEqual(alone);
    // New weights (as a rollback sets them): the workers must not score with their old copies.
    const other = createModel({ architecture: 'resnet8', inputShape: SHAPE, numClasses: K, seed: 99 });
    owned.push(other);
    model.setWeights(other.getWeights());
    const after = await scoreBatch(model, batch, { parallel });
    expect(after).toEqual(await scoreBatch(model, batch));
    expect(after).not.toEqual(alone);
  });

  it('trains a batch too small to split on the calling thread, and grows its buffers for a large one', async () => {
    // A group's row buffers start at 512 rows; no other test sends the shared small-cnn group more
    // than 48, so the 700-row batch is the one that grows them.
    const small = rows(2 * MIN_ROWS_PER_THREAD - 1, 9);
    const large = rows(700, 10);
    const result = await sideBySide('small-cnn', [small, large, small], crossEntropyObjective);
    expect(result.parallel.splits(small.ids.length)).toBe(false);
    expect(result.parallel.splits(large.ids.length)).toBe(true);
    expect(result.weights).toBeLessThan(1e-5);
  });

  it('leaks no tensors across split steps', async () => {
    const { model, optimizer, parallel } = await sharedTrainee('resnet8');
    const batch = rows(32, 11);
    // The first step creates the optimizer's momentum slots.
    trainStep(model, optimizer, batch, crossEntropyObjective, { parallel });
    await expectNoLeakedTensors(() => {
      for (let i = 0; i < 3; i++) trainStep(model, optimizer, batch, crossEntropyObjective, { parallel });
    });
  });

  it('stops the group when a step fails, and says so on the next one', async () => {
    const { model, optimizer } = trainee('small-cnn');
    const parallel = await createDataParallel(model, { threads: 2 });
    owned.push(parallel);
    const failing: Objective = () => {
      throw new UsageError('this objective always fails');
    };
    const batch = rows(32, 12);
    expect(() => trainStep(model, optimizer, batch, failing, { parallel })).toThrow(
      'this objective always fails',
    );
    let error: unknown;
    try {
      trainStep(model, optimizer, batch, crossEntropyObjective, { parallel });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TrainError);
    expect(error).toMatchObject({ code: ErrorCode.ReplicaFailed });
    expect(String(error)).toMatch(
      /data-parallel training cannot continue: an earlier step failed \(this objective always fails\)/,
    );
    await parallel.dispose();
  });

  it('refuses to train another model than its own', async () => {
    const { parallel } = await sharedGroup('small-cnn');
    const other = trainee('small-cnn');
    expect(() =>
      trainStep(other.model, other.optimizer, rows(32, 13), crossEntropyObjective, { parallel }),
    ).toThrow(UsageError);
  });

  it('leaves batch norm training on this thread alone once disposed', async () => {
    const one = trainee('resnet8');
    const two = trainee('resnet8');
    const parallel = await createDataParallel(two.model, { threads: 2 });
    const batch = rows(32, 14);
    trainStep(two.model, two.optimizer, batch, crossEntropyObjective, { parallel });
    trainStep(one.model, one.optimizer, batch, crossEntropyObjective);
    await parallel.dispose();
    await parallel.dispose();
    // Both now train alone, on the same weights: the same step, to rounding.
    two.model.setWeights(one.model.getWeights());
    const a = trainStep(one.model, one.optimizer, batch, crossEntropyObjective, { perExample: true });
    const b = trainStep(two.model, two.optimizer, batch, crossEntropyObjective, { perExample: true });
    expect(maxDifference(a.perExample as Float32Array, b.perExample as Float32Array)).toBe(0);
  });

  it('trains on one thread when asked to, or when a layer cannot be split, and says why', async () => {
    const { model } = trainee('small-cnn');
    const single = await createDataParallel(model, { threads: 1 });
    expect(single).toMatchObject({ replicas: 1, reason: null });
    expect(single.splits(1000)).toBe(false);

    const input = tf.input({ shape: [SHAPE.height, SHAPE.width, SHAPE.channels] });
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const dropped = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(flat) as tf.SymbolicTensor;
    const withDropout = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: K }).apply(dropped) as tf.SymbolicTensor,
    });
    owned.push(withDropout);
    const lines: string[] = [];
    const refused = await createDataParallel(withDropout, { threads: 2, log: (line) => lines.push(line) });
    expect(refused.replicas).toBe(1);
    expect(refused.reason).toBe("layer 'drop' (Dropout) cannot be split across threads");
    expect(lines).toEqual(["threads: 1 (layer 'drop' (Dropout) cannot be split across threads)"]);

    const vector = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: K })] });
    owned.push(vector);
    const notImages = await createDataParallel(vector, { threads: 2 });
    expect(notImages).toMatchObject({
      replicas: 1,
      reason: 'the model does not take one [batch, H, W, C] image input',
    });
  });
});

describe('resolveThreads', () => {
  it('takes auto as every core (at most 8) and refuses counts outside 1–64', () => {
    expect(resolveThreads('auto')).toBeGreaterThanOrEqual(1);
    expect(resolveThreads('auto')).toBeLessThanOrEqual(8);
    expect(resolveThreads(undefined)).toBe(resolveThreads('auto'));
    expect(resolveThreads(3)).toBe(3);
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) expect(() => resolveThreads(bad)).toThrow(UsageError);
  });
});

afterAll(() => {
  expect(owned).toEqual([]);
});
