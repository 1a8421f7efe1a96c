import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of batch normalization (`FusedBatchNorm`), with as few full-size passes as the maths
 * allows.
 *
 * <span class="informal">tfjs's own gradient tiles `1/√(var + ε)` to the full N×H×W×C shape before
 * multiplying it into `dy` (on the wasm backend that `Tile` alone took a third of a batch-norm
 * ResNet's training step: 488 of 1,597 ms, `npm run bench:profile`), and makes nine full-size
 * products and four full-size sums per layer. With `r = 1/√(var + ε)`, γ the scale and sums over the
 * axes each statistic was broadcast along, every gradient needs only two sums, `Σ dy` and
 * `Σ (x − mean)·dy`, and per-channel factors:
 *
 * - x: `dy · (r γ)`;
 * - mean: `−r γ · Σ dy`; variance: `−½ r³ γ · Σ (x − mean)·dy`;
 * - scale γ: `r · Σ (x − mean)·dy`; offset β: `Σ dy`.
 *
 * That is three full-size passes (x − mean, its product with dy, dy · rγ) and two sums. Products are
 * grouped differently from tfjs's, so results agree to float32 rounding, not bit for bit.</span>
 *
 * @example
 * ```ts
 * tf.registerGradient(fusedBatchNormGradConfig); // registerWasmKernels does this
 * ```
 */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const g = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const gamma = scale ?? tf.scalar(1);
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    // Each sum serves two gradients, so it is computed here, once: tfjs runs every gradient closure in
    // its own scope and would free a sum one closure made before the next could use it. (Training
    // always asks for all five; the cost of an unused one is a single reduction.)
    const dySum = reduce(g);
    const centredDySum = reduce(tf.mul(tf.sub(x, mean), g));
    const rGamma = tf.mul(r, gamma);
    return {
      x: () => tf.reshape(tf.mul(g, rGamma), x.shape),
      mean: () => tf.reshape(tf.mul(tf.neg(rGamma), dySum), mean.shape),
      variance: () =>
        tf.reshape(tf.mul(tf.mul(tf.mul(tf.mul(r, r), rGamma), tf.scalar(-0.5)), centredDySum), mean.shape),
      scale: () => tf.reshape(tf.mul(r, centredDySum), mean.shape),
      offset: () => tf.reshape(dySum, mean.shape),
    };
  },
};
