import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  constantSchedule,
  cosineSchedule,
  createOptimizer,
  type OptimizerOptions,
  stepSchedule,
  type TrainOptimizer,
} from '../../../src/train/optim.js';
import { expectNoLeakedTensors, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();

/** Applies a gradient of 1 to a one-element variable and returns the variable's new value. */
function stepWithUnitGradient(optimizer: TrainOptimizer, v: tf.Variable): number {
  tf.tidy(() => optimizer.optimizer.applyGradients({ [v.name]: tf.onesLike(v) }));
  return v.dataSync()[0] ?? Number.NaN;
}

/** Runs `fn` with a fresh variable holding 1, disposed once `fn` (and its promise) is done. */
async function withVariable(fn: (v: tf.Variable) => void | Promise<void>): Promise<void> {
  // tidy frees the initial scalar; the variable itself outlives it.
  const v = tf.tidy(() => tf.variable(tf.scalar(1)));
  try {
    await fn(v);
  } finally {
    v.dispose();
  }
}

describe('createOptimizer', () => {
  it('SGD honours a learning rate set between steps', async () => {
    await withVariable((v) => {
      const opt = createOptimizer({ kind: 'sgd', lr: 0.1 });
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(0.9, 6);
      opt.setLearningRate(0.5);
      expect(opt.learningRate).toBe(0.5);
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(0.4, 6);
      opt.dispose();
    });
  });

  it('momentum SGD honours a new rate and keeps its velocity (PyTorch convention v = μv + g)', async () => {
    await withVariable((v) => {
      const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9 });
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(1 - 0.1, 6);
      opt.setLearningRate(0.5);
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(0.9 - 0.5 * 1.9, 6);
      opt.dispose();
    });
  });

  it('Nesterov momentum steps by lr·(g + μv)', async () => {
    await withVariable((v) => {
      const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true });
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(1 - 0.1 * (1 + 0.9), 6);
      opt.dispose();
    });
  });

  it('Adam honours a new rate (its first steps move by about lr)', async () => {
    await withVariable((v) => {
      const opt = createOptimizer({ kind: 'adam', lr: 0.1 });
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(0.9, 5);
      opt.setLearningRate(0.01);
      expect(stepWithUnitGradient(opt, v)).toBeCloseTo(0.89, 5);
      opt.dispose();
    });
  });

  it("documents why: writing tfjs SGD's learningRate field directly is ignored", async () => {
    await withVariable((v) => {
      const raw = tf.train.sgd(0.1);
      // The field is protected in tfjs's typings; written here only to pin tfjs's behaviour.
      (raw as unknown as { learningRate: number }).learningRate = 0.5;
      tf.tidy(() => raw.applyGradients({ [v.name]: tf.onesLike(v) }));
      expect(v.dataSync()[0]).toBeCloseTo(0.9, 6);
      raw.dispose();
    });
  });

  it('frees all its state when disposed', async () => {
    await withVariable(async (v) => {
      for (const options of [
        { kind: 'sgd', lr: 0.1 },
        { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
        { kind: 'adam', lr: 0.1 },
      ] as const) {
        await expectNoLeakedTensors(() => {
          const opt = createOptimizer(options);
          stepWithUnitGradient(opt, v);
          opt.setLearningRate(0.01);
          stepWithUnitGradient(opt, v);
          opt.dispose();
        });
      }
    });
  });

  it('records its settings', () => {
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    expect([opt.kind, opt.baseLr, opt.learningRate, opt.weightDecay]).toEqual(['sgd', 0.1, 0.1, 1e-4]);
    expect(createOptimizer({ kind: 'adam', lr: 0.001 }).weightDecay).toBe(0);
    opt.dispose();
  });

  it('rejects bad settings with UsageError', () => {
    const bad = (o: Partial<OptimizerOptions>) => () => createOptimizer({ kind: 'sgd', lr: 0.1, ...o });
    expect(bad({ lr: 0 })).toThrow(UsageError);
    expect(bad({ lr: Number.NaN })).toThrow(UsageError);
    expect(bad({ momentum: 1 })).toThrow(UsageError);
    expect(bad({ nesterov: true })).toThrow(/Nesterov/);
    expect(bad({ kind: 'adam', nesterov: true, momentum: 0.9 })).toThrow(UsageError);
    expect(bad({ weightDecay: -1 })).toThrow(UsageError);
    expect(bad({ kind: 'rmsprop' as OptimizerOptions['kind'] })).toThrow(/valid: sgd, adam/);
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1 });
    expect(() => opt.setLearningRate(-1)).toThrow(UsageError);
    opt.dispose();
  });
});

describe('schedules', () => {
  it('constant keeps the base rate', () => {
    expect([0, 5, 99].map((e) => constantSchedule()(e, 0.1))).toEqual([0.1, 0.1, 0.1]);
  });

  it('step multiplies by gamma at each milestone (MultiStepLR)', () => {
    const s = stepSchedule({ milestones: [2, 4], gamma: 0.1 });
    const lrs = [0, 1, 2, 3, 4, 5].map((e) => s(e, 1));
    const want = [1, 1, 0.1, 0.1, 0.01, 0.01];
    for (const [i, lr] of lrs.entries()) expect(lr).toBeCloseTo(want[i] ?? Number.NaN, 12);
    expect(() => stepSchedule({ milestones: [4, 2] })).toThrow(UsageError);
    expect(() => stepSchedule({ milestones: [1.5] })).toThrow(UsageError);
    expect(() => stepSchedule({ milestones: [2], gamma: 0 })).toThrow(UsageError);
  });

  it('cosine falls from the base rate to minLr over the epochs, then holds', () => {
    const s = cosineSchedule({ epochs: 10, minLr: 0.001 });
    expect(s(0, 0.1)).toBeCloseTo(0.1, 12);
    expect(s(5, 0.1)).toBeCloseTo(0.001 + 0.099 / 2, 12);
    expect(s(10, 0.1)).toBeCloseTo(0.001, 12);
    expect(s(15, 0.1)).toBeCloseTo(0.001, 12);
    expect(cosineSchedule({ epochs: 4 })(2, 1)).toBeCloseTo(0.5, 12);
    expect(() => cosineSchedule({ epochs: 0 })).toThrow(UsageError);
    expect(() => cosineSchedule({ epochs: 3, minLr: -1 })).toThrow(UsageError);
  });
});
