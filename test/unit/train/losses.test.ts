import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import {
  crossEntropyObjective,
  flooding,
  lgaBatchMean,
  lgaPerExample,
  type Objective,
  perExampleCrossEntropy,
} from '../../../src/train/losses.js';
import type { TrainBatch } from '../../../src/train/types.js';
import { expectNoLeakedTensors, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();

/** A batch with only ids, for objectives that do not look at pixels. */
function idsBatch(ids: string[]): TrainBatch {
  return {
    ids,
    images: new Uint8Array(ids.length),
    labels: new Int32Array(ids.length),
    shape: { height: 1, width: 1, channels: 1 },
  };
}

/** Evaluates an objective on given per-example losses; returns its value and d(objective)/dℓ. */
function evaluate(objective: Objective, losses: number[]): { value: number; grad: number[] } {
  const batch = idsBatch(losses.map((_, i) => `r${i}`));
  return tf.tidy(() => {
    const l = tf.tensor1d(losses);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => objective(x as tf.Tensor1D, batch))(l);
    return { value: value.dataSync()[0] ?? Number.NaN, grad: Array.from(grad.dataSync()) };
  });
}

describe('perExampleCrossEntropy', () => {
  it('matches −log softmax(z)[y] computed by hand', async () => {
    await expectNoLeakedTensors(() => {
      const out = tf.tidy(() =>
        perExampleCrossEntropy(
          tf.tensor2d([
            [2, 0, 0],
            [0, 0, 0],
            [1, 2, 3],
          ]),
          tf.tensor1d([0, 1, 2], 'int32'),
        ).dataSync(),
      );
      const expected = [
        Math.log(1 + 2 * Math.exp(-2)),
        Math.log(3),
        Math.log(1 + Math.exp(-1) + Math.exp(-2)),
      ];
      expect(out.length).toBe(3);
      for (const [i, e] of expected.entries()) expect(out[i]).toBeCloseTo(e, 6);
    });
  });

  it('stays finite for huge logits', () => {
    const out = tf.tidy(() =>
      perExampleCrossEntropy(
        tf.tensor2d([
          [1000, 0],
          [1000, 0],
          [-1000, 1000],
        ]),
        tf.tensor1d([0, 1, 0], 'int32'),
      ).dataSync(),
    );
    // `+ 0` folds −0 (a negated exact zero) into 0.
    expect(Array.from(out, (v) => v + 0)).toEqual([0, 1000, 2000]);
  });
});

describe('objectives', () => {
  const losses = [0.2, 1.0, 0.5, 0.9];

  it('crossEntropyObjective is the mean', () => {
    const { value, grad } = evaluate(crossEntropyObjective, losses);
    expect(value).toBeCloseTo(0.65, 6);
    expect(grad).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('lgaPerExample is mean(sign(ℓ − γ)·ℓ): ascends rows under γ, descends rows over it', () => {
    const { value, grad } = evaluate(lgaPerExample(0.5), losses);
    expect(value).toBeCloseTo((-0.2 + 1.0 + 0 + 0.9) / 4, 6);
    // Minimising moves ℓ against the gradient: −1/4 makes row 0 (under γ) go up, +1/4 the others down;
    // the row exactly at γ is left alone.
    expect(grad).toEqual([-0.25, 0.25, 0, 0.25]);
  });

  it('lgaBatchMean is sign(mean ℓ − γ)·mean ℓ, one sign for the whole batch', () => {
    const over = evaluate(lgaBatchMean(0.5), losses);
    expect(over.value).toBeCloseTo(0.65, 6);
    expect(over.grad).toEqual([0.25, 0.25, 0.25, 0.25]);
    const under = evaluate(lgaBatchMean(0.5), [0.1, 0.3]);
    expect(under.value).toBeCloseTo(-0.2, 6);
    expect(under.grad).toEqual([-0.5, -0.5]);
  });

  it('flooding is |mean ℓ − γ| + γ, with the gradient of lgaBatchMean', () => {
    const over = evaluate(flooding(0.5), losses);
    expect(over.value).toBeCloseTo(0.65, 6);
    expect(over.grad).toEqual(evaluate(lgaBatchMean(0.5), losses).grad);
    const under = evaluate(flooding(0.5), [0.1, 0.3]);
    expect(under.value).toBeCloseTo(0.8, 6);
    expect(under.grad).toEqual(evaluate(lgaBatchMean(0.5), [0.1, 0.3]).grad);
  });

  it('LGA pushes a well-fitted row back up through the logits', () => {
    // Row 0 is fitted (loss ≈ 0.24 < γ), row 1 is not (loss ≈ 2.24 > γ). A descent step moves the true
    // logit against its gradient: down for row 0 (its loss rises), up for row 1 (its loss falls).
    const grad = tf.tidy(() => {
      const labels = tf.tensor1d([0, 0], 'int32');
      const g = tf.grad((z: tf.Tensor) =>
        lgaPerExample(0.5)(perExampleCrossEntropy(z as tf.Tensor2D, labels), idsBatch(['a', 'b'])),
      )(
        tf.tensor2d([
          [2, 0, 0],
          [0, 2, 0],
        ]),
      );
      return Array.from(g.dataSync());
    });
    expect(grad[0]).toBeGreaterThan(0);
    expect(grad[3]).toBeLessThan(0);
  });

  it('lets a custom objective ascend some rows and descend others in one step', () => {
    const unlearn = new Set(['r1']);
    const objective: Objective = (perExample, batch) =>
      tf.tidy(
        () =>
          tf.mean(
            tf.mul(
              perExample,
              batch.ids.map((id) => (unlearn.has(id) ? -1 : 1)),
            ),
          ) as tf.Scalar,
      );
    const { value, grad } = evaluate(objective, [0.4, 0.2, 0.6]);
    expect(value).toBeCloseTo((0.4 - 0.2 + 0.6) / 3, 6);
    expect(grad.map((g) => Math.sign(g))).toEqual([1, -1, 1]);
  });

  it('leaves no tensors behind', async () => {
    const batch = idsBatch(['a', 'b', 'c']);
    const l = tf.tensor1d([0.1, 0.7, 2]);
    await expectNoLeakedTensors(() => {
      for (const objective of [crossEntropyObjective, lgaPerExample(0.5), lgaBatchMean(0.5), flooding(0.5)]) {
        objective(l, batch).dispose();
      }
    });
    l.dispose();
  });

  it('rejects a negative or non-finite γ', () => {
    for (const make of [lgaPerExample, lgaBatchMean, flooding]) {
      expect(() => make(-0.1)).toThrow(UsageError);
      expect(() => make(Number.NaN)).toThrow(UsageError);
      expect(() => make(Number.POSITIVE_INFINITY)).toThrow(UsageError);
    }
  });
});
