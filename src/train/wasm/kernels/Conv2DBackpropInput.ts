import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ErrorCode, TrainError } from '../../../errors.js';
import {
  asWasmBackend,
  disposeIntermediate,
  type KernelAttrs,
  replacementKernel,
  runStockKernel,
  runWasmKernel,
  shape4,
} from '../kernelUtils.js';

/**
 * The input gradient of a 2-D convolution on the wasm backend, through XNNPACK's forward convolution.
 *
 * <span class="informal">The stock wasm kernel is a plain loop (a sixth of a ResNet-8 training step,
 * for its two stride-2 convolutions). The gradient is a forward convolution of `dy` with the filter
 * rotated 180° and its channel axes swapped (`[FH, FW, Cout, Cin]`): for stride 1 directly, with `dy`
 * padded by `FH − 1 − pt` on top (and what makes the output H rows tall at the bottom); for stride s,
 * of `dy` spread out with s − 1 zeros between rows and columns first. The zeros cost s² times the
 * multiplications, which XNNPACK still does several times faster than the loop. NCHW, and paddings that
 * would need cropping, go to the stock kernel, which {@link registerWasmKernels} keeps for this
 * purpose.</span>
 *
 * @example
 * ```ts
 * registerWasmKernels(); // replaces the stock kernel with this one
 * ```
 * @see registerWasmKernels
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = replacementKernel(
  tf.Conv2DBackpropInput,
  (args) => {
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
        : convolutionPlan(inputShape, shape4(filter.shape), shape4(dy.shape), strides, pad, dimRoundingMode);
    if (plan === undefined) return runStockKernel(tf.Conv2DBackpropInput, args);

    const spread = plan.stride[0] > 1 || plan.stride[1] > 1 ? spreadRows(wasm, dy, plan.stride) : dy;
    let reversed: tf.TensorInfo;
    try {
      reversed = runWasmKernel(tf.Reverse, wasm, { x: filter }, { dims: [0, 1] });
    } catch (error) {
      if (spread !== dy) disposeIntermediate(wasm, spread);
      throw error;
    }
    let rotated: tf.TensorInfo;
    try {
      rotated = runWasmKernel(tf.Transpose, wasm, { x: reversed }, { perm: [0, 1, 3, 2] });
    } catch (error) {
      if (spread !== dy) disposeIntermediate(wasm, spread);
      throw error;
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
      return runWasmKernel(tf.Conv2D, wasm, { x: spread, filter: rotated }, convAttrs);
    } finally {
      // Disposing the rotated filter also evicts the XNNPACK operator cached for it.
      disposeIntermediate(wasm, rotated);
      if (spread !== dy) disposeIntermediate(wasm, spread);
    }
  },
);

/** The equivalent forward convolution: `dy` spread by `stride`, then padded [before, after]. */
interface ConvolutionPlan {
  readonly stride: [number, number];
  readonly padHeight: [number, number];
  readonly padWidth: [number, number];
}

function convolutionPlan(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  dyShape: [number, number, number, number],
  strides: tf.Conv2DBackpropInputAttrs['strides'],
  pad: tf.Conv2DBackpropInputAttrs['pad'],
  dimRoundingMode: tf.Conv2DBackpropInputAttrs['dimRoundingMode'],
): ConvolutionPlan | undefined {
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
  const [, outHeight, outWidth] = dyShape;
  // dx[h] = Σ_fh d[h + pt − fh] · W[fh], where d is dy spread out (row i at i·s, zeros between, s·OH
  // rows): with d padded by FH − 1 − pt before, the rotated filter's taps line up; the padding after
  // makes the output exactly H rows.
  const spreadHeight = outHeight * info.strideHeight;
  const spreadWidth = outWidth * info.strideWidth;
  const top = info.filterHeight - 1 - info.padInfo.top;
  const bottom = info.inHeight - spreadHeight + info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  const right = info.inWidth - spreadWidth + info.padInfo.left;
  // Negative padding (explicit padding wider than the filter) would mean cropping: leave that to the
  // stock kernel.
  if (Math.min(top, bottom, left, right) < 0) return undefined;
  return { stride: [info.strideHeight, info.strideWidth], padHeight: [top, bottom], padWidth: [left, right] };
}

/**
 * `dy` with `s − 1` zero rows after each row and zero columns after each column: [N, OH·sh, OW·sw, C].
 * A reshape to [N, OH, 1, OW, 1, C], a zero pad of the unit axes to sh and sw, and a reshape back;
 * the reshapes share data, so the pad is the only copy.
 */
function spreadRows(wasm: BackendWasm, dy: tf.TensorInfo, [sh, sw]: [number, number]): tf.TensorInfo {
  const [n, h, w, c] = shape4(dy.shape);
  const six = runWasmKernel(tf.Reshape, wasm, { x: dy }, { shape: [n, h, 1, w, 1, c] });
  let padded: tf.TensorInfo;
  try {
    padded = runWasmKernel(
      tf.PadV2,
      wasm,
      { x: six },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  } finally {
    disposeIntermediate(wasm, six);
  }
  try {
    return runWasmKernel(tf.Reshape, wasm, { x: padded }, { shape: [n, h * sh, w * sw, c] });
  } finally {
    disposeIntermediate(wasm, padded);
  }
}
