import * as tf from '@tensorflow/tfjs';
// Loaded for its side effect: it registers the stock wasm kernels, which must exist before ours replace
// them (registered later, a stock kernel would silently overwrite ours).
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
import { rememberStockKernel } from './kernelUtils.js';

/**
 * The kernels abl-audit adds to (or replaces in) the wasm backend so that it can train conv nets.
 *
 * <span class="informal">Missing as shipped: `Conv2DBackpropFilter`, both depthwise gradients and
 * `UnsortedSegmentSum`. Replaced for speed: `Conv2DBackpropInput` (stride 1).</span>
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
