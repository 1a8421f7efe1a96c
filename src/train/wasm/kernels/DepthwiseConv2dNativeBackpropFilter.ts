import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import { asWasmBackend, runOnCpu } from '../kernelUtils.js';

/**
 * The filter gradient of a depthwise convolution on the wasm backend, which ships without one.
 *
 * <span class="informal">Runs the cpu backend's kernel on copies of the wasm tensors (see
 * `runOnCpu`): correct, but plain JavaScript, so depthwise-separable models train slowly on wasm. None
 * of abl-audit's models use depthwise convolutions; this keeps user models from failing.</span>
 *
 * @example
 * ```ts
 * tf.registerKernel(depthwiseConv2dNativeBackpropFilterConfig); // registerWasmKernels does this
 * ```
 * @see registerWasmKernels
 */
export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs;
    if (x === undefined || dy === undefined) {
      throw new TrainError(
        ErrorCode.KernelUnsupported,
        'DepthwiseConv2dNativeBackpropFilter needs inputs x and dy',
      );
    }
    return runOnCpu(tf.DepthwiseConv2dNativeBackpropFilter, asWasmBackend(backend), { x, dy }, attrs ?? {});
  },
};
