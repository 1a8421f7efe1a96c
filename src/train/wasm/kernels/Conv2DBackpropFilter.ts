import * as tf from '@tensorflow/tfjs';
import { ErrorCode, TrainError } from '../../../errors.js';
import {
  asWasmBackend,
  disposeIntermediate,
  type KernelAttrs,
  runWasmKernel,
  shape4,
} from '../kernelUtils.js';

/**
 * The filter gradient of a 2-D convolution on the wasm backend, which ships without one.
 *
 * <span class="informal">The gradient `dW[fh, fw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + fh − pt,
 * ow·sw + fw − pl, ci] · dy[n, oh, ow, co]` is itself a convolution: treat the input channels as the
 * batch and the batch as the channels (`x → [Cin, H, W, N]`), use the output gradient as the filter
 * (`dy → [OH, OW, N, Cout]`) dilated by the forward stride, and read the result `[Cin, FH, FW, Cout]`
 * back into filter order. That runs the backend's own XNNPACK convolution, and the transposes and the
 * slice are wasm kernels too, so the data never leaves wasm memory. NHWC only, like the wasm
 * backend's forward Conv2D.</span>
 *
 * @example
 * ```ts
 * tf.registerKernel(conv2DBackpropFilterConfig); // registerWasmKernels does this
 * ```
 * @see registerWasmKernels
 */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const wasm = asWasmBackend(backend);
    const { x, dy } = inputs;
    if (x === undefined || dy === undefined) {
      throw new TrainError(ErrorCode.KernelUnsupported, 'Conv2DBackpropFilter needs inputs x and dy');
    }
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = (attrs ??
      {}) as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW') {
      throw new TrainError(
        ErrorCode.KernelUnsupported,
        "the wasm backend supports only dataFormat 'NHWC' for Conv2DBackpropFilter",
      );
    }
    const info = tf.backend_util.computeConv2DInfo(
      shape4(x.shape),
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const [, outHeight, outWidth] = dy.shape;
    if (outHeight === undefined || outWidth === undefined) {
      throw new TrainError(
        ErrorCode.KernelUnsupported,
        `Conv2DBackpropFilter: dy must be rank 4, got [${dy.shape}]`,
      );
    }
    // Padding of the gradient convolution: the forward top/left padding, and at the bottom/right just
    // enough zeros for all FH×FW taps to exist (the forward bottom padding can be short of that under
    // 'ceil' rounding; rows beyond it read zeros, as the forward pass did).
    const padTop = info.padInfo.top;
    const padLeft = info.padInfo.left;
    const padBottom = Math.max(0, filterHeight + (outHeight - 1) * strideHeight - info.inHeight - padTop);
    const padRight = Math.max(0, filterWidth + (outWidth - 1) * strideWidth - info.inWidth - padLeft);

    const xT = runWasmKernel(tf.Transpose, wasm, { x }, { perm: [3, 1, 2, 0] });
    const dyT = runWasmKernel(tf.Transpose, wasm, { x: dy }, { perm: [1, 2, 0, 3] });
    let grad: tf.TensorInfo;
    try {
      const convAttrs: KernelAttrs = {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      };
      // dyT must be freed right after: XNNPACK caches one packed operator per filter tensor, and only
      // disposing the tensor evicts it.
      grad = runWasmKernel(tf.Conv2D, wasm, { x: xT, filter: dyT }, convAttrs);
    } finally {
      disposeIntermediate(wasm, xT, dyT);
    }
    // Taps past the filter exist when the input has rows no output reads ('valid' with a stride that
    // does not divide H − FH): cut them off.
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      const whole = grad;
      try {
        grad = runWasmKernel(
          tf.Slice,
          wasm,
          { x: whole },
          { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
        );
      } finally {
        disposeIntermediate(wasm, whole);
      }
    }
    try {
      return runWasmKernel(tf.Transpose, wasm, { x: grad }, { perm: [1, 2, 0, 3] });
    } finally {
      disposeIntermediate(wasm, grad);
    }
  },
};
