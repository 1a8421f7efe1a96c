import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import { asWasmBackend, replacementKernel, shape4 } from '../kernelUtils.js';

/**
 * The gradient of 2-D max pooling on the wasm backend, as one pass over the pooling windows.
 *
 * <span class="informal">The stock wasm kernel costs 10–20× the forward pooling (measured: 190 ms
 * against 20 ms for 128×28×28×32, 2×2 windows), a fifth of a small CNN's training step. Here each
 * output finds its window's maximum in `x` and adds its `dy` to that input, reading and writing the
 * wasm heap directly: the work is one read of `x` and `dy` and one write of `dx`. Ties and NaN follow
 * the cpu backend: the first maximum in row-major window order receives the gradient, and a window
 * without a number (all NaN) passes none.</span>
 *
 * @example
 * ```ts
 * registerWasmKernels(); // replaces the stock kernel with this one
 * ```
 * @see registerWasmKernels
 */
export const maxPoolGradConfig: tf.KernelConfig = replacementKernel(
  tf.MaxPoolGrad,
  ({ inputs, backend, attrs }) => {
    const wasm = asWasmBackend(backend);
    const { dy, input } = inputs;
    if (dy === undefined || input === undefined) {
      throw new TrainError(ErrorCode.KernelUnsupported, 'MaxPoolGrad needs inputs dy and input');
    }
    const { filterSize, strides, pad, dimRoundingMode } = (attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(
      shape4(input.shape),
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const dx = wasm.makeOutput(input.shape, 'float32');
    // Heap views only after makeOutput: an allocation can grow the heap and detach older views.
    const x = wasm.typedArrayFromHeap(input) as Float32Array;
    const g = wasm.typedArrayFromHeap(dy) as Float32Array;
    const out = wasm.typedArrayFromHeap(dx) as Float32Array;
    out.fill(0);
    scatterMaxGradients(x, g, out, info);
    return dx;
  },
);

/** Pool geometry, as `computePool2DInfo` gives it. */
type PoolInfo = tf.backend_util.Conv2DInfo;

/**
 * For every output of the pooling, adds its gradient to the input holding its window's first maximum.
 * Exported for the kernel test; NHWC, float32.
 */
export function scatterMaxGradients(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: PoolInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: depth, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (
    effectiveFilterHeight === 2 &&
    effectiveFilterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    padTop === 0 &&
    padLeft === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth
  ) {
    scatterMaxGradients2x2(x, dy, dx, info);
    return;
  }
  const rowStride = inWidth * depth;
  const imageStride = inHeight * rowStride;
  const yRowStride = outWidth * depth;
  const yImageStride = outHeight * yRowStride;
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * imageStride;
    const yBase = b * yImageStride;
    for (let yR = 0; yR < outHeight; yR++) {
      const rCorner = yR * strideHeight - padTop;
      // The first row of the window that lies inside the image, on the dilation grid.
      const rMin = rCorner < 0 ? rCorner + Math.ceil(-rCorner / dilationHeight) * dilationHeight : rCorner;
      const rMax = Math.min(inHeight, rCorner + effectiveFilterHeight);
      for (let yC = 0; yC < outWidth; yC++) {
        const cCorner = yC * strideWidth - padLeft;
        const cMin = cCorner < 0 ? cCorner + Math.ceil(-cCorner / dilationWidth) * dilationWidth : cCorner;
        const cMax = Math.min(inWidth, cCorner + effectiveFilterWidth);
        const yOffset = yBase + yR * yRowStride + yC * depth;
        for (let d = 0; d < depth; d++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = rMin; r < rMax; r += dilationHeight) {
            const rowOffset = xBase + r * rowStride + d;
            for (let c = cMin; c < cMax; c += dilationWidth) {
              const i = rowOffset + c * depth;
              const v = x[i] as number;
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (dy[yOffset + d] as number);
        }
      }
    }
  }
}

/**
 * {@link scatterMaxGradients} for 2×2 windows at stride 2 lying wholly inside the image (SmallCNN's
 * pooling): the four candidates of each window read straight along the channels, with no inner window
 * loops (measured for 128×28×28×32: 23.3 → 16.9 ms; what is left is mostly mispredicted branches on
 * the comparisons). Same tie and NaN rules.
 */
function scatterMaxGradients2x2(x: Float32Array, dy: Float32Array, dx: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: depth, outHeight, outWidth } = info;
  const rowStride = inWidth * depth;
  let out = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      const rowBase = (b * inHeight + 2 * yR) * rowStride;
      for (let yC = 0; yC < outWidth; yC++) {
        const p00 = rowBase + 2 * yC * depth;
        const p01 = p00 + depth;
        const p10 = p00 + rowStride;
        const p11 = p10 + depth;
        for (let d = 0; d < depth; d++, out++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          const v00 = x[p00 + d] as number;
          if (v00 > best) {
            best = v00;
            at = p00 + d;
          }
          const v01 = x[p01 + d] as number;
          if (v01 > best) {
            best = v01;
            at = p01 + d;
          }
          const v10 = x[p10 + d] as number;
          if (v10 > best) {
            best = v10;
            at = p10 + d;
          }
          if ((x[p11 + d] as number) > best) at = p11 + d;
          if (at >= 0) dx[at] = (dx[at] as number) + (dy[out] as number);
        }
      }
    }
  }
}
