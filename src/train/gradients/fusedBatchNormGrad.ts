import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of batch normalization (`FusedBatchNorm`), without materialising broadcasts.
 *
 * <span class="informal">tfjs's own gradient tiles `1/√(var + ε)` to the full N×H×W×C shape before
 * multiplying it into `dy`; on the wasm backend that `Tile` alone took a third of a batch-norm
 * ResNet's training step (488 of 1,597 ms, `npm run bench:profile`). Here the per-channel factors
 * broadcast in the multiplication instead. The arithmetic is the same, element for element, so the
 * gradients are bit-identical on every backend:
 *
 * - x: `dy · r · γ`, with `r = 1/√(var + ε)`;
 * - mean: `−Σ r · dy · γ`; variance: `Σ −½ r³ (x − mean) · dy · γ`;
 * - scale γ: `Σ dy · (x − mean) · r`; offset β: `Σ dy`,
 *
 * the sums over every axis the statistic was broadcast along.</span>
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
    const dyT = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const gamma = scale ?? tf.scalar(1);
    // Axes of x each statistic was broadcast along; its gradient sums over them.
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const centred = tf.sub(x, mean);
    const dyGamma = tf.mul(dyT, gamma);
    return {
      x: () => tf.reshape(tf.mul(tf.mul(dyT, r), gamma), x.shape),
      mean: () => reduce(tf.mul(tf.mul(r, tf.scalar(-1)), dyGamma)),
      variance: () =>
        reduce(tf.mul(tf.mul(tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5)), centred), dyGamma)),
      scale: () => reduce(tf.mul(dyT, tf.mul(centred, r))),
      offset: () => reduce(dyT),
    };
  },
};
