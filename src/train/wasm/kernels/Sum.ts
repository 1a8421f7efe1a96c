import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import {
  asWasmBackend,
  disposeIntermediate,
  runStockKernel,
  runWasmKernel,
  stockKernel,
} from '../kernelUtils.js';

/**
 * Sums over the axes just before the last one (channels) on the wasm backend, as a product with a row
 * of ones through XNNPACK.
 *
 * <span class="informal">The stock kernel reduces only innermost axes, so summing an NHWC tensor over
 * N, H and W (a convolution's bias gradient; batch norm's four per-channel sums per layer) first
 * transposes the whole tensor: 10.3 ms for 128×28×28×32, measured, where `ones[1, NHW] ·
 * x[NHW, C]` takes 0.9 ms. Any block of axes ending right before the last one is done this way, with
 * the axes before it as the product's batch: `ones[B, 1, R] · x[B, R, C]`. Other reductions, and
 * integer sums, go to the stock kernel. Float32 sums are added in another order than the stock
 * kernel's, so results agree to rounding (checked against the cpu backend).</span>
 *
 * @example
 * ```ts
 * registerWasmKernels(); // replaces the stock kernel with this one
 * ```
 * @see registerWasmKernels
 */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  // The stock kernel's set-up binds its wasm function, which the cases it keeps need.
  setupFunc: (backend) => {
    stockKernel(tf.Sum)?.setupFunc?.(backend);
  },
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const wasm = asWasmBackend(backend);
    const { x } = inputs;
    if (x === undefined) throw new TrainError(ErrorCode.KernelUnsupported, 'Sum needs input x');
    const { axis, keepDims } = (attrs ?? {}) as unknown as tf.SumAttrs;
    const block = channelBlock(x, axis);
    if (block === null) return runStockKernel(tf.Sum, args);
    const { batch, reduce, channels, axes } = block;
    const rows = runWasmKernel(tf.Reshape, wasm, { x }, { shape: [batch, reduce, channels] });
    const ones = runWasmKernel(tf.Fill, wasm, {}, { shape: [batch, 1, reduce], value: 1, dtype: 'float32' });
    let product: tf.TensorInfo | undefined;
    try {
      product = runWasmKernel(
        tf.BatchMatMul,
        wasm,
        { a: ones, b: rows },
        { transposeA: false, transposeB: false },
      );
      const outShape = keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      return runWasmKernel(tf.Reshape, wasm, { x: product }, { shape: outShape });
    } finally {
      disposeIntermediate(wasm, rows, ones, ...(product === undefined ? [] : [product]));
    }
  },
};

/**
 * The shape of a sum over a block of axes ending right before the last: `batch` (the axes before the
 * block) × `reduce` (the block) × `channels`; null for any other reduction, or for integer data.
 */
function channelBlock(
  x: tf.TensorInfo,
  axis: number | number[],
): { batch: number; reduce: number; channels: number; axes: number[] } | null {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return null;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  if (first === undefined || axes[axes.length - 1] !== rank - 2 || axes.some((a, i) => a !== first + i)) {
    return null;
  }
  const size = (dims: readonly number[]) => dims.reduce((n, d) => n * d, 1);
  const batch = size(x.shape.slice(0, first));
  const reduce = size(x.shape.slice(first, rank - 1));
  const channels = x.shape[rank - 1] as number;
  if (batch === 0 || reduce === 0 || channels === 0) return null;
  return { batch, reduce, channels, axes };
}
