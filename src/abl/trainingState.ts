import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { writeFileAtomically } from '../io/atomicWrite.js';
import type { TrainOptimizer } from '../train/optim.js';

const STATE_BIN = 'training-state.bin';
const STATE_JSON = 'training-state.json';

interface TensorEntry {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
}

interface StateManifest {
  readonly model: TensorEntry[];
  readonly optimizer: TensorEntry[];
  readonly bytes: number;
}

/**
 * Saves everything training needs to continue exactly where it stopped: the model's weights (batch
 * norm statistics included) and the optimizer's state (momentum buffers or Adam moments and its step
 * count), as `training-state.bin` plus a manifest, in `folder`. The manifest is written last, so a
 * folder with a manifest always has its complete weights.
 *
 * @param folder - the checkpoint folder.
 * @param model - the model.
 * @param optimizer - its optimizer.
 * @throws IoError when the files cannot be written.
 */
export async function saveTrainingState(
  folder: string,
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
): Promise<void> {
  const modelTensors = model.getWeights().map((t, i) => ({ name: `model/${i}`, tensor: t }));
  const optimizerTensors = await optimizer.optimizer.getWeights();
  const all = [...modelTensors, ...optimizerTensors];
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const { name, tensor } of all) {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const values = tensor.dataSync();
    const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    chunks.push(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
    entries.push({ name, shape: tensor.shape, dtype });
  }
  freeStepCount(optimizerTensors);
  const bytes = chunks.reduce((s, c) => s + c.byteLength, 0);
  const buffer = Buffer.concat(chunks);
  await writeFileAtomically(join(folder, STATE_BIN), buffer);
  const manifest: StateManifest = {
    model: entries.slice(0, modelTensors.length),
    optimizer: entries.slice(modelTensors.length),
    bytes,
  };
  await writeFileAtomically(join(folder, STATE_JSON), JSON.stringify(manifest));
}

/**
 * Restores a {@link saveTrainingState} checkpoint into a model and optimizer of the same architecture
 * and kind.
 *
 * @param folder - the checkpoint folder.
 * @param model - receives the weights.
 * @param optimizer - receives its state.
 * @throws IoError when the checkpoint is missing, damaged or does not fit the model.
 */
export async function loadTrainingState(
  folder: string,
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
): Promise<void> {
  const jsonPath = join(folder, STATE_JSON);
  let manifest: StateManifest;
  let buffer: Buffer;
  try {
    manifest = JSON.parse(await readFile(jsonPath, 'utf8')) as StateManifest;
    buffer = await readFile(join(folder, STATE_BIN));
  } catch (cause) {
    throw new IoError(ErrorCode.CorruptFile, `cannot read the checkpoint: ${describeError(cause)}`, {
      cause,
      location: { file: jsonPath },
    });
  }
  const expected = model.getWeights();
  if (
    buffer.byteLength !== manifest.bytes ||
    manifest.model.length !== expected.length ||
    manifest.model.some((e, i) => e.shape.join() !== (expected[i] as tf.Tensor).shape.join())
  ) {
    throw new IoError(
      ErrorCode.CorruptFile,
      'the checkpoint does not fit this model (another architecture or a damaged file); run without --resume to start over',
      { location: { file: jsonPath } },
    );
  }
  let offset = 0;
  const read = (e: TensorEntry): tf.Tensor => {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const bytes = buffer.subarray(offset, offset + count * 4);
    offset += count * 4;
    const copy = new Uint8Array(bytes).buffer;
    return tf.tensor(e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy), e.shape, e.dtype);
  };
  const weights = manifest.model.map(read);
  model.setWeights(weights);
  tf.dispose(weights);
  const state = manifest.optimizer.map((e) => ({ name: e.name, tensor: read(e) }));
  await optimizer.optimizer.setWeights(state);
  tf.dispose(state.map((s) => s.tensor));
}

/** An optimizer's state as `getWeights` gives it: named tensors. */
type OptimizerState = Awaited<ReturnType<tf.Optimizer['getWeights']>>;

/**
 * Frees what an optimizer's `getWeights` made for the caller: a fresh step-count scalar. The rest are
 * the optimizer's own state variables (dispose them and training breaks).
 */
function freeStepCount(state: OptimizerState): void {
  tf.dispose(state.map((s) => s.tensor).filter((t) => !(t instanceof tf.Variable)));
}

/**
 * Copies of the optimizer's state (momentum buffers, Adam's moments, its step count), in memory: what
 * {@link restoreOptimizer} puts back when an unlearning epoch is rolled back. The caller frees them.
 *
 * @param optimizer - the optimizer.
 * @returns the copies.
 */
export async function snapshotOptimizer(optimizer: TrainOptimizer): Promise<OptimizerState> {
  const state = await optimizer.optimizer.getWeights();
  const copies = state.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
  freeStepCount(state);
  return copies;
}

/**
 * Puts a {@link snapshotOptimizer} state back, into the optimizer's own variables. (tfjs's `setWeights`
 * would make new variables without freeing the current ones, and its `dispose` also frees the
 * momentum constant.) The step count is not restored: SGD does not use it; Adam's bias correction
 * continues from the rolled-back attempt's steps.
 *
 * @param optimizer - the optimizer.
 * @param state - its snapshot (not freed here).
 */
export async function restoreOptimizer(optimizer: TrainOptimizer, state: OptimizerState): Promise<void> {
  const live = await optimizer.optimizer.getWeights();
  const saved = new Map(state.map((s) => [s.name, s.tensor]));
  for (const { name, tensor } of live) {
    // A buffer the attempt created (its first step) did not exist before it: zeros, as tfjs starts one.
    if (tensor instanceof tf.Variable) tf.tidy(() => tensor.assign(saved.get(name) ?? tf.zerosLike(tensor)));
  }
  freeStepCount(live);
}
