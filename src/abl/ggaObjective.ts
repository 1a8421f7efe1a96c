import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';
import type { Objective } from '../train/losses.js';

/** Options of {@link ggaObjective}. */
export interface GgaObjectiveOptions {
  /** Weight of the isolated rows' term against the clean rows' (default 1, the paper's). */
  readonly ascentWeight?: number;
}

/**
 * Added to 1 − p inside the log, so a row predicted with certainty gives a finite value and a
 * non-zero push (a clamp would make its gradient exactly 0, on exactly the rows to unlearn).
 */
const EPSILON = 1e-6;

/**
 * ABL's global gradient ascent on a mixed batch: descend on the clean rows' cross-entropy ℓ and raise
 * the isolated rows' ℓ in the same step, `E_clean[ℓ] + w·E_isolated[−log(1 − e^{−ℓ})]`, where a row is
 * isolated when `isolated` holds its id. A batch without isolated rows is plain cross-entropy.
 *
 * <span class="informal">The isolated term (ε = 1e-6 inside the log) is the ascent written so that it does not stall: `−ℓ`'s
 * gradient is `p − 1`, which vanishes exactly on the rows a backdoor makes most confident (their loss
 * is ~1e-6 after isolation, and in our measurements `−ℓ` left them untouched), while
 * `−log(1 − p)` (p = e^{−ℓ}, the probability of the poisoned label) pushes hardest there and fades
 * once the label is unlikely, so it needs no cap to stay bounded.</span>
 *
 * @example
 * ```ts
 * trainEpoch(model, mixedBatches$, { optimizer, objective: ggaObjective(isolatedIds) });
 * ```
 * @param isolated - ids of the rows to unlearn.
 * @param options - the ascent weight.
 * @returns the objective.
 * @throws UsageError for a weight that is not a positive finite number.
 */
export function ggaObjective(isolated: ReadonlySet<string>, options: GgaObjectiveOptions = {}): Objective {
  const weight = options.ascentWeight ?? 1;
  if (!(Number.isFinite(weight) && weight > 0)) {
    throw new UsageError(`the ascent weight must be > 0, got ${weight}`);
  }
  return (perExample, batch) =>
    tf.tidy(() => {
      const flags = batch.ids.map((id) => (isolated.has(id) ? 1 : 0));
      const nIsolated = flags.reduce<number>((a, b) => a + b, 0);
      const nClean = flags.length - nIsolated;
      const isolatedMask = tf.tensor1d(flags, 'float32');
      const cleanMask = tf.sub(1, isolatedMask);
      const clean = nClean > 0 ? tf.div(tf.sum(tf.mul(perExample, cleanMask)), nClean) : tf.scalar(0);
      if (nIsolated === 0) return clean as tf.Scalar;
      const complement = tf.add(tf.sub(1, tf.exp(tf.neg(perExample))), EPSILON);
      const unlikely = tf.neg(tf.log(complement));
      const ascended = tf.div(tf.sum(tf.mul(unlikely, isolatedMask)), nIsolated);
      return tf.add(clean, tf.mul(ascended, weight)) as tf.Scalar;
    });
}
