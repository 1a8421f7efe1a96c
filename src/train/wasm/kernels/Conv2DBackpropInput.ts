import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import {
  asWasmBackend,
  disposeIntermediate,
  type KernelAttrs,
  runWasmKernel,
  shape4,
  stockKernel,
} from '../kernelUtils.js';

/**
 * The input gradient of a 2-D convolution on the wasm backend, fast for stride 1.
 *
 * <span class="informal">The stock wasm kernel is a plain loop. With stride 1 the gradient is a
 * forward convolution of `dy`, padded by `FH − 1 − pt` on top (and what makes the output H rows tall
 * at the bottom), with the filter rotated 180° and its channel axes swapped (`[FH, FW, Cout, Cin]`),
 * which runs on the backend's XNNPACK convolution. Other strides, NCHW, and paddings wider than the
 * filter go to the stock kernel, which {@link registerWasmKernels} keeps for this purpose.</span>
 *
 * @example
 * ```ts
 * registerWasmKernels(); // replaces the stock kernel with this one
 * ```
 * @see registerWasmKernels
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  // tfjs runs set-up functions when a backend starts. The stock kernel's set-up binds its wasm
  // function; once ours has replaced it, only ours is called, so it must pass the call on.
  setupFunc: (backend) => {
    stockKernel(tf.Conv2DBackpropInput)?.setupFunc?.(backend);
  },
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const wasm = asWasmBackend(backend);
    const { dy, filter } = inputs;
    if (dy === undefined || filter === undefined) {
      throw new TrainError(ErrorCode.KernelUnsupported, 'Conv2DBackpropInput needs inputs dy and filter');
    }
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = (attrs ??
      {}) as unknown as tf.Conv2DBackpropInputAttrs;
    const plan =
      dataFormat === 'NCHW'
        ? undefined
        : stride1Plan(inputShape, shape4(filter.shape), shape4(dy.shape), strides, pad, dimRoundingMode);
    if (plan === undefined) {
      const stock = stockKernel(tf.Conv2DBackpropInput);
      if (stock === undefined) {
        throw new TrainError(
          ErrorCode.KernelUnsupported,
          'Conv2DBackpropInput: no stock wasm kernel to hand this stride or layout to',
        );
      }
      return stock.kernelFunc(args);
    }

    const reversed = runWasmKernel(tf.Reverse, wasm, { x: filter }, { dims: [0, 1] });
    let rotated: tf.TensorInfo;
    try {
      rotated = runWasmKernel(tf.Transpose, wasm, { x: reversed }, { perm: [0, 1, 3, 2] });
    } finally {
      disposeIntermediate(wasm, reversed);
    }
    const convAttrs: KernelAttrs = {
      strides: [1, 1],
      pad: [[0, 0], plan.padHeight, plan.padWidth, [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    };
    try {
      return runWasmKernel(tf.Conv2D, wasm, { x: dy, filter: rotated }, convAttrs);
    } finally {
      // Disposing the rotated filter also evicts the XNNPACK operator cached for it.
      disposeIntermediate(wasm, rotated);
    }
  },
};

/** Padding of the equivalent forward convolution, as [before, after] per spatial axis. */
interface Stride1Plan {
  readonly padHeight: [number, number];
  readonly padWidth: [number, number];
}

function stride1Plan(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  dyShape: [number, number, number, number],
  strides: tf.Conv2DBackpropInputAttrs['strides'],
  pad: tf.Conv2DBackpropInputAttrs['pad'],
  dimRoundingMode: tf.Conv2DBackpropInputAttrs['dimRoundingMode'],
): Stride1Plan | undefined {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const [, outHeight, outWidth] = dyShape;
  // dx[h] = Σ_fh dy[h + pt − fh] · W[fh]: with dy padded by FH − 1 − pt before, the rotated filter's
  // taps line up; the padding after makes the output exactly H rows.
  const top = info.filterHeight - 1 - info.padInfo.top;
  const bottom = info.inHeight - outHeight + info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  const right = info.inWidth - outWidth + info.padInfo.left;
  // Negative padding (explicit padding wider than the filter) would mean cropping: leave that to the
  // stock kernel.
  if (Math.min(top, bottom, left, right) < 0) return undefined;
  return { padHeight: [top, bottom], padWidth: [left, right] };
}
