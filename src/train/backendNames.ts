import type { BackendName } from './types.js';

/**
 * Every backend abl-audit can train on, in the order `auto` tries them (fastest first).
 *
 * <span class="informal">The two `tensorflow` backends come from the optional packages
 * `@tensorflow/tfjs-node-gpu` and `@tensorflow/tfjs-node` (native libtensorflow); `wasm` and `cpu` are
 * always installed. Its own module, free of TensorFlow.js, so that the command line can list the
 * backends in its help and validate `--backend` without loading one.</span>
 *
 * @example
 * ```ts
 * BACKEND_NAMES.includes(flag as BackendName);
 * ```
 * @see initBackend
 */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
