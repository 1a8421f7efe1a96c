import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ErrorCode, TrainError } from '../../errors.js';

/** A kernel's attributes as tfjs passes them. */
export type KernelAttrs = tf.NamedAttrMap;

/** A kernel's inputs, by the names tfjs gives them. */
export type KernelInputs = Readonly<Record<string, tf.TensorInfo>>;

/** Kernels our wasm kernels replaced, kept so a replacement can hand the cases it does not cover back. */
const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Narrows the `backend` a kernel receives to the wasm backend.
 *
 * <span class="informal">tfjs types it as `{}`; our kernels are registered for `wasm` only, so anything
 * else means a kernel was copied to another backend, which they cannot serve.</span>
 *
 * @example
 * ```ts
 * const wasm = asWasmBackend(args.backend);
 * ```
 * @see registerWasmKernels
 * @param backend - the `backend` field of a kernel's arguments.
 * @returns the same object, typed.
 */
export function asWasmBackend(backend: unknown): BackendWasm {
  const candidate = backend as Partial<BackendWasm> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.typedArrayFromHeap !== 'function' ||
    typeof candidate.makeOutput !== 'function'
  ) {
    throw new TrainError(ErrorCode.KernelUnsupported, 'abl-audit wasm kernel called with a non-wasm backend');
  }
  return candidate as BackendWasm;
}

/**
 * Runs another wasm kernel from inside one of ours and returns its single output.
 *
 * <span class="informal">Calls the registered kernel function directly, as tfjs's own wasm kernels
 * do, so the work stays in wasm memory and the engine records nothing: the caller must free the
 * result with {@link disposeIntermediate} unless it returns it.</span>
 *
 * @example
 * ```ts
 * const xT = runWasmKernel(tf.Transpose, wasm, { x }, { perm: [3, 1, 2, 0] });
 * ```
 * @see disposeIntermediate
 * @param kernelName - the tfjs kernel name (`tf.Conv2D`, `tf.Transpose`, ...).
 * @param backend - the wasm backend.
 * @param inputs - the kernel's inputs.
 * @param attrs - the kernel's attributes.
 * @returns the kernel's output, owned by the caller.
 */
export function runWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: KernelInputs,
  attrs: KernelAttrs = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (kernel === undefined) {
    throw new TrainError(ErrorCode.KernelUnsupported, `the wasm backend has no '${kernelName}' kernel`);
  }
  return singleOutput(kernelName, kernel.kernelFunc({ inputs: { ...inputs }, backend, attrs }));
}

/**
 * Frees tensors a kernel made for its own use.
 *
 * <span class="informal">Goes through `disposeData`, which honours reference counts, so an
 * intermediate that shares its data with an input (a reshape does) leaves the input intact.</span>
 *
 * @example
 * ```ts
 * disposeIntermediate(wasm, xT, dyT);
 * ```
 * @see runWasmKernel
 * @param backend - the backend that owns the tensors.
 * @param infos - the intermediates.
 */
export function disposeIntermediate(backend: tf.KernelBackend, ...infos: readonly tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * Runs a kernel of the `cpu` backend on wasm tensors: copies the inputs out of wasm memory, runs the
 * cpu kernel, copies its output into a new wasm tensor.
 *
 * <span class="informal">A correct stand-in for kernels the wasm backend lacks and training rarely
 * needs (depthwise convolution gradients): slow, as it is plain JavaScript and copies both ways.</span>
 *
 * @example
 * ```ts
 * const dx = runOnCpu(tf.DepthwiseConv2dNativeBackpropInput, wasm, { dy, filter }, attrs);
 * ```
 * @see runWasmKernel
 * @param kernelName - the tfjs kernel name.
 * @param backend - the wasm backend that owns `inputs` and will own the result.
 * @param inputs - the kernel's inputs, in wasm memory.
 * @param attrs - the kernel's attributes, passed through unchanged.
 * @returns a wasm tensor with the cpu kernel's output.
 */
export function runOnCpu(
  kernelName: string,
  backend: BackendWasm,
  inputs: KernelInputs,
  attrs: KernelAttrs,
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'cpu');
  // findBackend returns null when the cpu backend cannot start, whatever its declared type says.
  const cpu: tf.KernelBackend | null = tf.findBackend('cpu');
  if (kernel === undefined || cpu === null) {
    throw new TrainError(
      ErrorCode.KernelUnsupported,
      `the cpu backend has no '${kernelName}' kernel to bridge to`,
    );
  }
  silenceCpuAdvice(cpu);
  const cpuInputs: Record<string, tf.TensorInfo> = {};
  try {
    for (const [name, info] of Object.entries(inputs)) {
      // readSync copies out of the wasm heap, so the cpu backend owns an array no later wasm allocation
      // can move or overwrite.
      const values = backend.readSync(info.dataId);
      cpuInputs[name] = {
        dataId: cpu.write(values, info.shape, info.dtype),
        shape: info.shape,
        dtype: info.dtype,
      };
    }
    const out = singleOutput(kernelName, kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs }));
    try {
      const values = cpu.readSync(out.dataId);
      if (!isNumericArray(values)) {
        throw new TrainError(
          ErrorCode.KernelUnsupported,
          `cpu kernel '${kernelName}' returned non-numeric data`,
        );
      }
      const result = backend.makeOutput(out.shape, out.dtype);
      // Take the heap view only after makeOutput: an allocation can grow (and so replace) the heap.
      backend.typedArrayFromHeap(result).set(values);
      return result;
    } finally {
      cpu.disposeData(out.dataId);
    }
  } finally {
    disposeIntermediate(cpu, ...Object.values(cpuInputs));
  }
}

/**
 * Stops the cpu backend's one-time "install tfjs-node" console warning.
 *
 * <span class="informal">The backend prints it on its first write in Node. abl-audit says the same
 * thing once, in its own backend line, and a warning in the middle of a training run (the first time a
 * kernel is bridged to the cpu) would only confuse. Touches the flag only where it exists.</span>
 *
 * @example
 * ```ts
 * silenceCpuAdvice(tf.findBackend('cpu'));
 * ```
 * @see runOnCpu
 * @param backend - the cpu backend instance (anything else is left alone).
 */
export function silenceCpuAdvice(backend: unknown): void {
  if (backend !== null && typeof backend === 'object' && 'firstUse' in backend) {
    const flagged = backend as { firstUse: unknown };
    if (typeof flagged.firstUse === 'boolean') flagged.firstUse = false;
  }
}

/**
 * Records the kernel one of ours replaces, so the replacement can hand it the cases it does not cover.
 *
 * <span class="informal">Called by `registerWasmKernels` just before it unregisters the stock kernel;
 * tfjs keeps one kernel per name and backend, so without this the stock one would be lost.</span>
 *
 * @example
 * ```ts
 * rememberStockKernel(tf.getKernel(tf.Conv2DBackpropInput, 'wasm'));
 * ```
 * @see stockKernel
 * @param config - the kernel being replaced.
 */
export function rememberStockKernel(config: tf.KernelConfig): void {
  if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, config);
}

/**
 * The stock wasm kernel that one of ours replaced, if any.
 *
 * <span class="informal">See {@link rememberStockKernel}.</span>
 *
 * @example
 * ```ts
 * const stock = stockKernel(tf.Conv2DBackpropInput);
 * ```
 * @see rememberStockKernel
 * @param kernelName - the tfjs kernel name.
 * @returns the replaced kernel, or `undefined` when ours was registered where none existed.
 */
export function stockKernel(kernelName: string): tf.KernelConfig | undefined {
  return stockKernels.get(kernelName);
}

/**
 * The config of a wasm kernel that replaces a stock one: registered under the stock kernel's name, and
 * set up by running the stock kernel's own set-up, which binds the wasm functions the cases it hands
 * back (through {@link runStockKernel}) need.
 *
 * @example
 * ```ts
 * export const sumConfig = replacementKernel(tf.Sum, (args) => runStockKernel(tf.Sum, args));
 * ```
 * @see runStockKernel
 * @param kernelName - the tfjs kernel name.
 * @param kernelFunc - the replacement.
 * @returns the config `registerWasmKernels` registers.
 */
export function replacementKernel(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: (backend) => {
      stockKernel(kernelName)?.setupFunc?.(backend);
    },
    kernelFunc,
  };
}

/**
 * Hands a kernel call to the stock wasm kernel one of ours replaced (the cases ours does not cover).
 *
 * @example
 * ```ts
 * if (!fast) return runStockKernel(tf.BatchMatMul, args);
 * ```
 * @see stockKernel
 * @param kernelName - the tfjs kernel name.
 * @param args - the call's inputs, backend and attributes.
 * @returns what the stock kernel returns.
 * @throws TrainError when no stock kernel was kept for this name.
 */
export function runStockKernel(
  kernelName: string,
  args: Parameters<tf.KernelFunc>[0],
): tf.TensorInfo | tf.TensorInfo[] {
  const stock = stockKernel(kernelName);
  if (stock === undefined) {
    throw new TrainError(
      ErrorCode.KernelUnsupported,
      `${kernelName}: no stock wasm kernel to hand this case to`,
    );
  }
  return stock.kernelFunc(args);
}

/**
 * A shape checked to be rank 4, typed as the tuple tfjs's convolution helpers want.
 *
 * <span class="informal">Kernel inputs carry `number[]` shapes; a wrong rank here would otherwise
 * surface as a confusing failure deep inside a convolution.</span>
 *
 * @example
 * ```ts
 * backend_util.computeConv2DInfo(shape4(x.shape), filterShape, strides, 1, pad);
 * ```
 * @see runWasmKernel
 * @param shape - a tensor's shape.
 * @returns the same four sizes.
 */
export function shape4(shape: readonly number[]): [number, number, number, number] {
  const [a, b, c, d] = shape;
  if (shape.length !== 4 || a === undefined || b === undefined || c === undefined || d === undefined) {
    throw new TrainError(
      ErrorCode.KernelUnsupported,
      `expected a rank-4 tensor, got shape [${shape.join(', ')}]`,
    );
  }
  return [a, b, c, d];
}

function singleOutput(kernelName: string, out: tf.TensorInfo | tf.TensorInfo[]): tf.TensorInfo {
  if (!Array.isArray(out)) return out;
  const [first, ...rest] = out;
  if (first === undefined || rest.length > 0) {
    throw new TrainError(
      ErrorCode.KernelUnsupported,
      `kernel '${kernelName}' returned ${out.length} outputs, not 1`,
    );
  }
  return first;
}

function isNumericArray(values: tf.backend_util.BackendValues): values is tf.TypedArray {
  return ArrayBuffer.isView(values);
}
