import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import { asWasmBackend } from '../kernelUtils.js';

/**
 * Sums the rows of `x` into `numSegments` buckets by `segmentIds`, on the wasm backend, which ships
 * without this kernel. It is the gradient of `gather` (embedding lookups, `tf.gather` in a loss).
 *
 * <span class="informal">`out[s, ...] = Σ_{i : segmentIds[i] = s} x[i, ...]`; ids outside
 * `[0, numSegments)` are dropped, as in TensorFlow. One pass over `x` in JavaScript on views of the wasm
 * heap, linear in the size of `x` (the cpu backend's kernel, which a bridge would use, makes one masked
 * pass over `x` per segment). Float sums are accumulated in float64 and rounded once.</span>
 *
 * @example
 * ```ts
 * tf.registerKernel(unsortedSegmentSumConfig); // registerWasmKernels does this
 * ```
 * @see registerWasmKernels
 */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = asWasmBackend(backend);
    const { x, segmentIds } = inputs;
    if (x === undefined || segmentIds === undefined) {
      throw new TrainError(ErrorCode.KernelUnsupported, 'UnsortedSegmentSum needs inputs x and segmentIds');
    }
    const { numSegments } = (attrs ?? {}) as unknown as tf.UnsortedSegmentSumAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new TrainError(ErrorCode.KernelUnsupported, `UnsortedSegmentSum: unsupported dtype '${x.dtype}'`);
    }
    const idShape = segmentIds.shape;
    if (idShape.length > x.shape.length || idShape.some((size, axis) => size !== x.shape[axis])) {
      throw new TrainError(
        ErrorCode.KernelUnsupported,
        `UnsortedSegmentSum: segmentIds shape [${idShape.join(', ')}] is not a prefix of x shape [${x.shape.join(', ')}]`,
      );
    }
    const rowShape = x.shape.slice(idShape.length);
    const rowSize = tf.util.sizeFromShape(rowShape);
    const sums = new Float64Array(numSegments * rowSize);

    const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
    // Views only after makeOutput: an allocation can grow the heap and detach earlier views.
    const xVals = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    for (let i = 0; i < ids.length; i++) {
      const segment = Math.trunc(ids[i] ?? -1);
      if (segment < 0 || segment >= numSegments) continue;
      const from = i * rowSize;
      const to = segment * rowSize;
      for (let j = 0; j < rowSize; j++) sums[to + j] = (sums[to + j] ?? 0) + (xVals[from + j] ?? 0);
    }
    // Float32Array and Int32Array round or truncate the float64 sums on assignment.
    wasm.typedArrayFromHeap(out).set(sums);
    return out;
  },
};
