import type * as tf from '@tensorflow/tfjs';
import { type CreateModelOptions, createModel } from '../models/createModel.js';

/**
 * Gives `model` the weights a freshly built model of the same architecture would start with, keeping
 * the model object: the data-parallel group and everything else that holds it stay valid.
 *
 * @param model - the model to reset (built from the same options but for the seed).
 * @param options - architecture, shape, classes and the seed of the new initial weights.
 */
export function reinitialize(model: tf.LayersModel, options: CreateModelOptions): void {
  const fresh = createModel(options);
  try {
    const weights = fresh.getWeights();
    model.setWeights(weights);
  } finally {
    fresh.dispose();
  }
}
