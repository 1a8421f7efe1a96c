import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backdoorProbeGuard,
  guardTolerance,
  heldOutAccuracyGuard,
  shareGuard,
  targetClassGuard,
} from '../../../src/abl/unlearnGuards.js';
import { concatBatches } from '../../../src/train/batches/selectRows.js';
import { separableBatches, useCpuBackend } from '../../helpers/tf.js';
import { tinyModel } from '../../helpers/tinyModel.js';

useCpuBackend();

const SHAPE = { height: 4, width: 4, channels: 1 };
const rows = concatBatches(
  separableBatches({ shape: SHAPE, numClasses: 2, batches: 1, batchSize: 40, seed: 2 }),
);

describe('guardTolerance', () => {
  it('is the bound, or two standard errors of the share where the rows are too few to resolve it', () => {
    // 130 rows at 75%: ±3.8 points is one standard error.
    expect(guardTolerance(0.03, 0.75, 130)).toBeCloseTo(2 * Math.sqrt((0.75 * 0.25) / 130), 10);
    expect(guardTolerance(0.03, 0.75, 2000)).toBe(0.03);
    expect(guardTolerance(0.015, 0, 300)).toBe(0.015);
    expect(guardTolerance(0.03, 1, 10)).toBe(0.03);
  });
});

describe('shareGuard', () => {
  const fall = shareGuard({ name: 'f', reason: 'fell', rows, predictedAs: 0, direction: 'fall', bound: 0.1 });
  const rise = shareGuard({ name: 'r', reason: 'rose', rows, predictedAs: 0, direction: 'rise', bound: 0.1 });

  it('fails a falling share below its best, and a rising one above its lowest, past the tolerance', () => {
    // 40 rows at 50%: two standard errors are 0.158, above the bound of 0.1.
    expect(fall.judge(0.5, 0.4)).toMatchObject({ violated: false });
    expect(fall.judge(0.5, 0.3)).toMatchObject({ violated: true });
    expect(fall.judge(0.5, 0.3).tolerance).toBeCloseTo(2 * Math.sqrt(0.25 / 40), 10);
    expect(rise.judge(0.5, 0.6)).toMatchObject({ violated: false });
    expect(rise.judge(0.5, 0.7)).toMatchObject({ violated: true });
  });

  it('keeps the best value as the reference: the highest when falling is bad, the lowest when rising is', () => {
    expect(fall.advance(0.5, 0.6)).toBe(0.6);
    expect(fall.advance(0.5, 0.4)).toBe(0.5);
    expect(rise.advance(0.5, 0.4)).toBe(0.4);
    expect(rise.advance(0.5, 0.6)).toBe(0.5);
  });

  describe('measuring', () => {
    let model: tf.LayersModel;
    beforeAll(() => {
      model = tinyModel(SHAPE, 2, 3);
    });
    afterAll(() => model.dispose());

    it('measures the share of rows predicted as the class, or as their own label for accuracy', async () => {
      const predicted = tf.tidy(() =>
        Array.from(
          (model.predict(tf.tensor4d(rows.images, [40, 4, 4, 1], 'float32')) as tf.Tensor)
            .argMax(-1)
            .dataSync(),
        ),
      );
      const asZero = predicted.filter((p) => p === 0).length / 40;
      const correct = predicted.filter((p, i) => p === rows.labels[i]).length / 40;
      expect(await targetClassGuard(rows, 0, 0.05).measure(model, {})).toBeCloseTo(asZero, 10);
      expect(await backdoorProbeGuard(rows, 0, 0.015).measure(model, {})).toBeCloseTo(asZero, 10);
      expect(await heldOutAccuracyGuard(rows, 0.03).measure(model, {})).toBeCloseTo(correct, 10);
    });
  });

  it('names the three guards and the reasons the report records', () => {
    expect(
      [
        heldOutAccuracyGuard(rows, 0.03),
        targetClassGuard(rows, 0, 0.05),
        backdoorProbeGuard(rows, 0, 0.015),
      ].map((g) => [g.name, g.reason, g.rows]),
    ).toEqual([
      ['accuracy', 'accuracy-drop', 40],
      ['target-class', 'target-class-drop', 40],
      ['probe', 'backdoor-relearned', 40],
    ]);
  });
});
