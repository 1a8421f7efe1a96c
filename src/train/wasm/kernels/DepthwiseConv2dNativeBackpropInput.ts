import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import { asWasmBackend, runOnCpu } from '../kernelUtils.js';

/**
 * The input gradient of a depthwise convolution on the wasm backend, which ships without one.
 *
 * <span class="informal">Runs the cpu backend's kernel on copies of the wasm tensors (see
 * `runOnCpu`): correct, but plain JavaScript, so depthwise-separable models train slowly on wasm. None
 * of abl-audit's models use depthwise convolutions; this keeps user models from failing.</span>
 *
 * @example
 * ```ts
 * tf.registerKernel(depthwiseConv2dNativeBackpropInputConfig); // registerWasmKernels does this
 * ```
 * @see registerWasmKernels
 */
export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs;
    if (dy === undefined || filter === undefined) {
      throw new TrainError(
        ErrorCode.KernelUnsupported,
        'DepthwiseConv2dNativeBackpropInput needs inputs dy and filter',
      );
    }
    return runOnCpu(
      tf.DepthwiseConv2dNativeBackpropInput,
      asWasmBackend(backend),
      { dy, filter },
      attrs ?? {},
    );
  },
};
