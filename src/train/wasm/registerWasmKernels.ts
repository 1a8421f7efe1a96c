import * as tf from '@tensorflow/tfjs';
// Loaded for its side effect: it registers the stock wasm kernels, which must exist before ours replace
// them (registered later, a stock kernel would silently overwrite ours).
import '@tensorflow/tfjs-backend-wasm';
import { fusedBatchNormGradConfig } from '../gradients/fusedBatchNormGrad.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { sumConfig } from './kernels/Sum.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
import { rememberStockKernel, stockKernel } from './kernelUtils.js';

/**
 * The kernels abl-audit adds to (or replaces in) the wasm backend so that it can train conv nets.
 *
 * <span class="informal">Missing as shipped: `Conv2DBackpropFilter`, both depthwise gradients and
 * `UnsortedSegmentSum`. Replaced for speed: `Conv2DBackpropInput` (stride 1), `BatchMatMul` (transposed
 * operands), `MaxPoolGrad` and `Sum` (over an image's H and W).</span>
 *
 * @example
 * ```ts
 * wasmTrainingKernels.map((k) => k.kernelName);
 * ```
 * @see registerWasmKernels
 */
export const wasmTrainingKernels: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  sumConfig,
];

/**
 * Registers abl-audit's training kernels for the wasm backend; safe to call any number of times.
 *
 * <span class="informal">Call it before the first gradient is computed on wasm (`initBackend` does).
 * A stock kernel of the same name is unregistered first (tfjs warns when a name is registered twice)
 * and kept, so a replacement can hand it the cases it does not cover. Kernels already ours are left
 * alone. Works before or after the wasm backend starts: tfjs looks kernels up on every call.</span>
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * registerWasmKernels();
 * ```
 * @see wasmTrainingKernels
 * @see initBackend
 * @returns the names of the kernels this call registered (empty when all were already registered).
 */
export function registerWasmKernels(): string[] {
  const registered: string[] = [];
  // Gradients are not per backend: this one is exact on every backend, and only wasm needed it.
  if (tf.getGradient(tf.FusedBatchNorm) !== fusedBatchNormGradConfig) {
    stockGradient ??= tf.getGradient(tf.FusedBatchNorm);
    tf.registerGradient(fusedBatchNormGradConfig);
    registered.push(`${tf.FusedBatchNorm} gradient`);
  }
  for (const config of wasmTrainingKernels) {
    const current = tf.getKernel(config.kernelName, config.backendName);
    if (current === config) continue;
    if (current !== undefined) {
      rememberStockKernel(current);
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}

/** tfjs's own batch-norm gradient, kept so benchmarks and tests can compare against it. */
let stockGradient: tf.GradConfig | undefined;

/**
 * Puts tfjs's stock wasm kernels (and batch-norm gradient) back in place of abl-audit's faster
 * replacements, for measuring what the replacements gain (`npm run bench:train -- --compare-kernels`)
 * and for tests. Kernels the wasm backend lacks as shipped stay registered: without them it cannot
 * train at all. {@link registerWasmKernels} undoes this.
 *
 * @example
 * ```ts
 * restoreStockKernels(); // time the stock kernels
 * registerWasmKernels(); // and ours again
 * ```
 * @param only - restore just these (kernel names, or `FusedBatchNorm gradient`); default all.
 * @returns the names of the kernels and gradients put back.
 */
export function restoreStockKernels(only?: readonly string[]): string[] {
  const wanted = (name: string) => only === undefined || only.includes(name);
  const restored: string[] = [];
  for (const config of wasmTrainingKernels) {
    if (!wanted(config.kernelName)) continue;
    const stock = stockKernel(config.kernelName);
    if (stock === undefined || tf.getKernel(config.kernelName, config.backendName) !== config) continue;
    tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(stock);
    restored.push(config.kernelName);
  }
  const gradient = `${tf.FusedBatchNorm} gradient`;
  if (
    wanted(gradient) &&
    stockGradient !== undefined &&
    tf.getGradient(tf.FusedBatchNorm) === fusedBatchNormGradConfig
  ) {
    tf.registerGradient(stockGradient);
    restored.push(gradient);
  }
  return restored;
}
