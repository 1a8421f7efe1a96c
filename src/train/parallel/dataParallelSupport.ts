import type * as tf from '@tensorflow/tfjs';
import { isTrainableBatchNorm } from '../trainingBatchNorm.js';

/**
 * Layers whose training-mode output for a row depends on that row alone (and on the weights), so a
 * batch can be split across replicas without changing the step. Batch norm is not among them (its
 * statistics span the batch) but is supported through `trainingBatchNorm`'s reduction; dropout is not, since
 * each replica would draw its own masks.
 */
const ROW_WISE_LAYERS: ReadonlySet<string> = new Set([
  'InputLayer',
  'Rescaling',
  'Conv1D',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Dense',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'PReLU',
  'Softmax',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Permute',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Add',
  'Subtract',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Concatenate',
]);

/**
 * Whether a model's training step can be split across data-parallel replicas with the same result
 * (up to float rounding), and if not, why.
 *
 * <span class="informal">The model must take one image input, and every layer must be row-wise (convolutions, dense, pooling, activations,
 * merges) or a batch norm over the last axis, which is synchronised across replicas. Anything else
 * (dropout, a nested model, a custom layer) keeps training on one thread.</span>
 *
 * @example
 * ```ts
 * const why = dataParallelSupport(model);
 * if (why !== null) log(`training on one thread: ${why}`);
 * ```
 * @param model - the model to train.
 * @returns null when supported, else a short reason naming the first layer that is not.
 */
export function dataParallelSupport(model: tf.LayersModel): string | null {
  const [, h, w, c] = model.inputs[0]?.shape ?? [];
  if (model.inputs.length !== 1 || model.inputs[0]?.shape.length !== 4 || !h || !w || !c) {
    return 'the model does not take one [batch, H, W, C] image input';
  }
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'BatchNormalization') {
      if (!isTrainableBatchNorm(layer)) {
        return `batch-norm layer '${layer.name}' normalises another axis than the last (channels) one, or has no γ or β`;
      }
      continue;
    }
    if (!ROW_WISE_LAYERS.has(kind)) {
      return `layer '${layer.name}' (${kind}) cannot be split across threads`;
    }
  }
  return null;
}
