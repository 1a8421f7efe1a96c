import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ggaObjective } from '../../../src/abl/ggaObjective.js';
import { ErrorCode, UsageError } from '../../../src/errors.js';
import type { Objective } from '../../../src/train/losses.js';
import type { TrainBatch } from '../../../src/train/types.js';
import { expectNoLeakedTensors, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();

/** A batch with only ids: the objective looks at nothing else. */
function idsBatch(ids: string[]): TrainBatch {
  return {
    ids,
    images: new Uint8Array(ids.length),
    labels: new Int32Array(ids.length),
    shape: { height: 1, width: 1, channels: 1 },
  };
}

/** The objective's value on per-example losses `losses` (rows r0, r1, …) and its gradient w.r.t. them. */
async function evaluate(objective: Objective, losses: number[]): Promise<{ value: number; grad: number[] }> {
  const batch = idsBatch(losses.map((_, i) => `r${i}`));
  return expectNoLeakedTensors(() =>
    tf.tidy(() => {
      const l = tf.tensor1d(losses, 'float32');
      const value = objective(l, batch);
      const grad = tf.grad((x: tf.Tensor) => objective(x as tf.Tensor1D, batch))(l);
      expect(value.shape).toEqual([]);
      expect(grad.shape).toEqual([losses.length]);
      return { value: value.dataSync()[0] ?? Number.NaN, grad: Array.from(grad.dataSync()) };
    }),
  );
}

/** The isolated rows' term: −log(1 − e^{−ℓ}). */
const unlikely = (loss: number) => -Math.log(1 - Math.exp(-loss));

describe('ggaObjective', () => {
  it('descends on clean rows and ascends on isolated ones: mean(clean ℓ) + w·mean(−log(1 − e^−ℓ))', async () => {
    // r0, r2 clean (ℓ = 1, 3); r1, r3 isolated (ℓ = ln 2 → p = 1/2; ℓ = ln 4 → p = 1/4).
    const objective = ggaObjective(new Set(['r1', 'r3']), { ascentWeight: 0.5 });
    const { value, grad } = await evaluate(objective, [1, Math.LN2, 3, Math.log(4)]);
    const expected = (1 + 3) / 2 + 0.5 * ((unlikely(Math.LN2) + unlikely(Math.log(4))) / 2);
    // unlikely(ln 2) = ln 2, unlikely(ln 4) = −ln(3/4).
    expect(expected).toBeCloseTo(2 + 0.25 * (Math.LN2 - Math.log(0.75)), 12);
    expect(value).toBeCloseTo(expected, 5);
    // d/dℓ of a clean row: 1/nClean. Of an isolated row: −(w/nIso)·1/(e^ℓ − 1): −0.25·1 and −0.25·(1/3).
    expect(grad[0]).toBeCloseTo(0.5, 6);
    expect(grad[2]).toBeCloseTo(0.5, 6);
    expect(grad[1]).toBeCloseTo(-0.25, 5);
    expect(grad[3]).toBeCloseTo(-0.25 / 3, 5);
  });

  it('uses weight 1 by default', async () => {
    const { value, grad } = await evaluate(ggaObjective(new Set(['r1'])), [2, Math.LN2]);
    expect(value).toBeCloseTo(2 + Math.LN2, 5);
    expect(grad[0]).toBeCloseTo(1, 6);
    expect(grad[1]).toBeCloseTo(-1, 5);
  });

  it('pushes harder the more confident an isolated row is', async () => {
    const objective = ggaObjective(new Set(['r0', 'r1', 'r2']));
    const { grad } = await evaluate(objective, [1e-3, 0.1, 2]);
    // −(1/3)/(e^ℓ − 1)
    [1e-3, 0.1, 2].forEach((l, i) => {
      expect(grad[i]).toBeCloseTo(-1 / 3 / Math.expm1(l), l < 0.01 ? 0 : 4);
    });
    expect(Math.abs(grad[0] as number)).toBeGreaterThan(Math.abs(grad[1] as number));
    expect(Math.abs(grad[1] as number)).toBeGreaterThan(Math.abs(grad[2] as number));
    expect(grad[0] as number).toBeLessThan(-300);
  });

  it('keeps a finite value and a push on isolated rows at loss ~0 (ε = 1e-6 inside the log)', async () => {
    // r0 clean (ℓ = 1); r1 isolated at ℓ = 0: −log(0 + 1e-6); r2 at ℓ = 5e-7, the rows a backdoor makes certain.
    const { value, grad } = await evaluate(ggaObjective(new Set(['r1', 'r2'])), [1, 0, 5e-7]);
    // float32: 1 − e^−5e-7 is only resolved to ~6e-8 near 1.
    expect(value).toBeCloseTo(1 + (-Math.log(1e-6) - Math.log(5e-7 + 1e-6)) / 2, 1);
    expect(grad[0]).toBeCloseTo(1, 6);
    // d/dℓ −log(1 − e^−ℓ + ε) = −e^−ℓ / (1 − e^−ℓ + ε): about −1/ε at ℓ = 0, halved by the mean over 2 rows.
    expect(grad[1] as number).toBeLessThan(-1e5);
    expect(grad[2] as number).toBeLessThan(-1e5);
    expect(grad.every((g) => Number.isFinite(g))).toBe(true);
  });

  it('equals the plain mean cross-entropy on a batch without isolated rows', async () => {
    const losses = [0.5, 1.5, 2.5, 0.25];
    const { value, grad } = await evaluate(ggaObjective(new Set(['other', 'ids'])), losses);
    expect(value).toBeCloseTo(4.75 / 4, 6);
    for (const g of grad) expect(g).toBeCloseTo(0.25, 7);
    // An empty set, too.
    const empty = await evaluate(ggaObjective(new Set()), losses);
    expect(empty.value).toBeCloseTo(4.75 / 4, 6);
  });

  it('has only the ascent term on a batch of isolated rows only', async () => {
    const { value, grad } = await evaluate(ggaObjective(new Set(['r0', 'r1']), { ascentWeight: 2 }), [
      Math.LN2,
      Math.LN2,
    ]);
    expect(value).toBeCloseTo(2 * Math.LN2, 5);
    expect(grad[0]).toBeCloseTo(-1, 5);
    expect(grad[1]).toBeCloseTo(-1, 5);
  });

  it('rejects an ascent weight that is not a positive finite number', () => {
    for (const w of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown;
      try {
        ggaObjective(new Set(), { ascentWeight: w });
      } catch (err) {
        caught = err;
      }
      expect(caught, `weight ${w}`).toBeInstanceOf(UsageError);
      expect((caught as UsageError).code).toBe(ErrorCode.Usage);
      expect((caught as UsageError).message).toContain(String(w));
    }
  });
});
