import * as tf from '@tensorflow/tfjs';
import { from } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type UnlearnOptions, type UnlearnProgress, unlearn } from '../../../src/abl/unlearn.js';
import { heldOutAccuracyGuard, targetClassGuard, type UnlearnGuard } from '../../../src/abl/unlearnGuards.js';
import { ErrorCode } from '../../../src/errors.js';
import { epochSource } from '../../../src/train/batches/epochs.js';
import { concatBatches, selectRows } from '../../../src/train/batches/selectRows.js';
import { cosineSchedule, createOptimizer, type TrainOptimizer } from '../../../src/train/optim.js';
import { rejection } from '../../helpers/errors.js';
import { expectNoLeakedTensors, separableBatches, useCpuBackend } from '../../helpers/tf.js';
import { tinyModel } from '../../helpers/tinyModel.js';

useCpuBackend();

const SHAPE = { height: 8, width: 8, channels: 1 };
const batches = separableBatches({ shape: SHAPE, numClasses: 3, batches: 4, batchSize: 24, seed: 3 });
const all = concatBatches(batches);
const data = epochSource(() => from(batches), { cache: true });
// Rows r0, r3, r6 … (class 0) up to r27 are "isolated"; rows 80+ are the guard's held-out rows.
const isolatedIds = new Set(all.ids.filter((_, i) => i % 3 === 0 && i < 30));
const holdout = new Set(all.ids.filter((_, i) => i >= 80));
const isolated = selectRows(all, (id) => isolatedIds.has(id));
const guardRows = selectRows(all, (id) => holdout.has(id));
const classRows = selectRows(all, (id, i) => all.labels[i] === 0 && !isolatedIds.has(id) && !holdout.has(id));

let model: tf.LayersModel;
let optimizer: TrainOptimizer;
beforeEach(() => {
  model = tinyModel(SHAPE, 3, 5);
  optimizer = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true });
});
afterEach(() => {
  model.dispose();
  optimizer.dispose();
});

interface Overrides extends Partial<Omit<UnlearnOptions, 'schedule'>> {
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly ascend?: boolean;
}

/** Joint unlearning of the fixture's isolated rows, two epochs, a guard that never fires. */
function options(o: Overrides = {}): UnlearnOptions {
  const { epochs = 2, learningRate = 0.05, ascend, ...rest } = o;
  return {
    schedule: { mode: 'joint', epochs, learningRate, ascend },
    rows: { isolated, excluded: new Set([...isolatedIds, ...holdout]) },
    guards: [heldOutAccuracyGuard(guardRows, 1)],
    training: { batchSize: 16, seed: 1, firstEpoch: 2, augment: false },
    ...rest,
  };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const guard = (p: UnlearnProgress, name: string) => p.guards.find((g) => g.name === name);
const measure = (p: UnlearnProgress, epoch: number, name: string) =>
  p.history[epoch]?.measures.find((m) => m.name === name)?.value;

describe('unlearn', () => {
  it('joint mode: one record per epoch, isolated rows ascended in every step, no tensors leaked', async () => {
    const steps: number[] = [];
    // The optimizer's momentum buffers (one per trainable weight) are the only tensors that remain.
    const progress = await expectNoLeakedTensors(
      () => unlearn(model, optimizer, data, options({ onStep: (_, s) => steps.push(s.rows) })),
      model.trainableWeights.length,
    );
    expect(progress.history.map((h) => [h.epoch, h.phase, h.rolledBack])).toEqual([
      [1, 'joint', false],
      [2, 'joint', false],
    ]);
    // 96 rows − 10 isolated − 16 held out = 70 clean rows: batches of 16 (+ 4 isolated each) and a last of 6 (+ 4).
    expect(steps).toEqual([20, 20, 20, 20, 10, 20, 20, 20, 20, 10]);
    // The isolated rows' loss is pushed up, past chance level (ln 3) while the model learns the rest.
    expect(progress.history[1]?.isolatedLoss).toBeGreaterThan(Math.log(3));
    expect(measure(progress, 1, 'accuracy')).toBeGreaterThan(0.5);
    expect(progress.stopped).toBe(false);
    expect(progress.epochsDone).toBe(2);
  });

  it('joint mode with an anchor adds as many trusted rows of the class as isolated rows to each batch', async () => {
    const steps: number[] = [];
    const rows = { isolated, anchor: classRows, excluded: new Set([...isolatedIds, ...holdout]) };
    await unlearn(
      model,
      optimizer,
      data,
      options({ epochs: 1, rows, onStep: (_, st) => steps.push(st.rows) }),
    );
    // 16 clean + 4 isolated + 4 anchor rows, and a last batch of 6 + 4 + 4.
    expect(steps).toEqual([24, 24, 24, 24, 14]);
  });

  it('joint mode without ascent trains on the clean part only', async () => {
    const steps: number[] = [];
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({ epochs: 1, ascend: false, onStep: (_, s) => steps.push(s.rows) }),
    );
    expect(steps).toEqual([16, 16, 16, 16, 6]);
    expect(progress.history[0]?.phase).toBe('joint');
  });

  it('sets each epoch\u2019s rate from the schedule\u2019s lrSchedule (a cosine for a retrained model)', async () => {
    const progress = await unlearn(model, optimizer, data, {
      ...options({ epochs: 3 }),
      schedule: {
        mode: 'joint',
        epochs: 3,
        learningRate: 0.04,
        lrSchedule: cosineSchedule({ epochs: 3 }),
      },
    });
    expect(progress.history.map((h) => h.learningRate)).toEqual(
      [0.04, 0.03, 0.01].map((v) => expect.closeTo(v, 9)),
    );
  });

  it('takes a warm-up epoch\u2019s measures as the references instead of judging them against the start', async () => {
    // A scripted guard: 0.9 before training (a random model's lucky value), 0.5 after each epoch, and
    // any fall is a violation. Judged against the start, the first epoch would roll back and stop.
    const scripted = (): UnlearnGuard => {
      const values = [0.9, 0.5, 0.5];
      return {
        name: 'accuracy',
        reason: 'accuracy-drop',
        rows: 1,
        measure: async () => values.shift() ?? 0.5,
        judge: (reference, value) => ({ violated: value < reference, tolerance: 0 }),
        advance: (reference, value) => Math.max(reference, value),
      };
    };
    const judged = await unlearn(
      model,
      optimizer,
      data,
      options({ epochs: 2, guards: [scripted()], retries: 0 }),
    );
    expect(judged.history[0]?.rolledBack).toBe(true);
    expect(judged.stopped).toBe(true);
    const warmed = await unlearn(model, optimizer, data, {
      ...options({ epochs: 2, guards: [scripted()], retries: 0 }),
      warmupEpochs: 1,
    });
    expect(warmed.history.map((h) => h.rolledBack)).toEqual([false, false]);
    expect(warmed.stopped).toBe(false);
    expect(guard(warmed, 'accuracy')).toMatchObject({ initial: 0.9, reference: 0.5 });
  });

  it('reference mode: fine-tuning epochs, then an evaluation-only epoch, then unlearning epochs', async () => {
    const progress = await unlearn(model, optimizer, data, {
      ...options(),
      schedule: {
        mode: 'reference',
        fineTuneEpochs: 1,
        learningRate: 0.05,
        unlearnEpochs: 3,
        unlearnLearningRate: 0.01,
      },
    });
    expect(progress.history.map((h) => [h.phase, h.meanObjective === null])).toEqual([
      ['fine-tune', false],
      ['evaluate', true],
      ['unlearn', false],
      ['unlearn', false],
    ]);
    expect(progress.history.slice(2).map((h) => h.learningRate)).toEqual([0.01, 0.01]);
  });

  it('rolls back to the previous epoch and stops when held-out accuracy falls past the bound', async () => {
    // Learn the task first, then unlearn with an absurd learning rate that wrecks the model.
    await unlearn(model, optimizer, data, options());
    const before = weightsOf(model);
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({ learningRate: 50, guards: [heldOutAccuracyGuard(guardRows, 0.01)], retries: 0 }),
    );
    const initial = guard(progress, 'accuracy')?.initial as number;
    expect(initial).toBeGreaterThan(0.5);
    const h = progress.history[0];
    expect(measure(progress, 0, 'accuracy')).toBeLessThan(initial - 0.01);
    expect(h?.rolledBack).toBe(true);
    expect(h?.stopReason).toBe('accuracy-drop');
    expect(progress.stopped).toBe(true);
    expect(progress.history).toHaveLength(1);
    expect(weightsOf(model)).toEqual(before);
  });

  it('tries a rolled-back epoch again at half the learning rate, from the same weights and optimizer state', async () => {
    await unlearn(model, optimizer, data, options());
    const weightsBefore = weightsOf(model);
    const stateOf = async () => {
      const state = await optimizer.optimizer.getWeights();
      const values = state.map((s) => Array.from(s.tensor.dataSync()));
      tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
      return values.slice(1); // the step count moves on
    };
    const stateBefore = await stateOf();
    const epochs: number[] = [];
    const progress = await expectNoLeakedTensors(() =>
      unlearn(
        model,
        optimizer,
        data,
        options({
          learningRate: 50,
          guards: [heldOutAccuracyGuard(guardRows, 0.01)],
          retries: 2,
          onEpoch: async (p) => {
            epochs.push(p.epochsDone);
          },
        }),
      ),
    );
    // Every attempt wrecks the model: two retries at 25 and 12.5, then it stops.
    expect(progress.history.map((h) => [h.epoch, h.learningRate, h.rolledBack, h.retried])).toEqual([
      [1, 50, true, true],
      [1, 25, true, true],
      [1, 12.5, true, false],
    ]);
    expect(epochs).toEqual([0, 0, 1]);
    expect(progress).toMatchObject({ stopped: true, retries: 2, learningRateScale: 0.25 });
    expect(weightsOf(model)).toEqual(weightsBefore);
    expect(await stateOf()).toEqual(stateBefore);
  });

  it('rolls back an epoch whose loss became NaN and tries again, instead of failing the audit', async () => {
    await unlearn(model, optimizer, data, options());
    const before = weightsOf(model);
    const progress = await unlearn(model, optimizer, data, options({ learningRate: 1e12, retries: 1 }));
    expect(progress.history.map((h) => [h.learningRate, h.stopReason, h.retried])).toEqual([
      [1e12, 'loss-not-finite', true],
      [5e11, 'loss-not-finite', false],
    ]);
    expect(progress.stopped).toBe(true);
    expect(weightsOf(model)).toEqual(before);
    // The record measures the model unlearning goes on from (restored), not the blown-up attempt.
    expect(measure(progress, 0, 'accuracy')).toBe(guard(progress, 'accuracy')?.initial);
  });

  it("rolls back and stops when the target class's own rows stop being predicted as it", async () => {
    await unlearn(model, optimizer, data, options({ ascend: false }));
    // The isolated rows are genuine class-0 rows here, and there is no anchor: ascending on them
    // teaches the model to stop predicting class 0, which the target-class guard must catch.
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({
        guards: [heldOutAccuracyGuard(guardRows, 1), targetClassGuard(classRows, 0, 0.05)],
      }),
    );
    const best = guard(progress, 'target-class')?.reference as number;
    expect(best).toBeGreaterThan(0.5);
    const last = progress.history[progress.history.length - 1];
    expect(last?.stopReason).toBe('target-class-drop');
    expect(last?.measures.find((m) => m.name === 'target-class')?.value).toBeLessThan(best - 0.05);
    expect(progress.stopped).toBe(true);
  });

  it('checks the guards in their order: the first violated one names the roll-back', async () => {
    const always = (name: string, reason: string): UnlearnGuard => ({
      name,
      reason,
      rows: 1,
      measure: async () => 0,
      judge: () => ({ violated: true, tolerance: 0 }),
      advance: (reference) => reference,
    });
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({
        epochs: 1,
        retries: 0,
        guards: [always('first', 'first-broke'), always('second', 'second-broke')],
      }),
    );
    expect(progress.history[0]?.stopReason).toBe('first-broke');
    expect(progress.history[0]?.measures.map((m) => [m.name, m.violated])).toEqual([
      ['first', true],
      ['second', true],
    ]);
  });

  it('continues from a progress record when resumed', async () => {
    const first = await unlearn(model, optimizer, data, options({ epochs: 1 }));
    const resumed = await unlearn(model, optimizer, data, options({ epochs: 2, resumeFrom: first }));
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(guard(resumed, 'accuracy')?.initial).toBe(guard(first, 'accuracy')?.initial);
  });

  it('excludes the rows distrust returns from later epochs and records them', async () => {
    const steps: number[] = [];
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({
        distrust: async () => all.ids.slice(30, 50),
        onStep: (e, s) => e === 1 && steps.push(s.rows),
      }),
    );
    expect(progress.distrusted).toHaveLength(20);
    expect(progress.history[0]?.newlyDistrusted).toBe(20);
    expect(progress.history[1]?.newlyDistrusted).toBe(0);
    // Epoch 2 trains on 70 − 20 = 50 clean rows.
    expect(steps.reduce((a, b) => a + b, 0)).toBe(50 + 4 * 4);
  });

  it('refuses an empty isolated set to ascend on, and trains on without one when it does not ascend', async () => {
    const rows = { isolated: selectRows(all, () => false), excluded: new Set<string>() };
    const error = await rejection(unlearn(model, optimizer, data, options({ rows })));
    expect(error.code).toBe(ErrorCode.Usage);
    // Nothing quarantined (a clean verdict): the model trains on every row, nothing is unlearned.
    const steps: number[] = [];
    const progress = await unlearn(
      model,
      optimizer,
      data,
      options({ rows, epochs: 1, ascend: false, onStep: (_, s) => steps.push(s.rows) }),
    );
    expect(steps.reduce((a, b) => a + b, 0)).toBe(all.ids.length);
    expect(progress.history[0]).toMatchObject({ phase: 'joint', isolatedLoss: 0 });
  });

  it('still takes the deprecated flat options, with the same result as today’s', async () => {
    const twin = tinyModel(SHAPE, 3, 5);
    const twinOptimizer = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true });
    try {
      const today = await unlearn(model, optimizer, data, {
        ...options({ epochs: 1 }),
        guards: [heldOutAccuracyGuard(guardRows, 0.5), targetClassGuard(classRows, 0, 0.5)],
      });
      const flat = await unlearn(twin, twinOptimizer, data, {
        mode: 'joint',
        epochs: 1,
        batchSize: 16,
        learningRate: 0.05,
        seed: 1,
        firstEpoch: 2,
        augment: false,
        isolated,
        excluded: new Set([...isolatedIds, ...holdout]),
        guard: { rows: guardRows, maxDrop: 0.5, targetClass: { rows: classRows, label: 0, maxDrop: 0.5 } },
      });
      expect(flat).toEqual(today);
      expect(weightsOf(twin)).toEqual(weightsOf(model));
    } finally {
      twin.dispose();
      twinOptimizer.dispose();
    }
  });
});
