import * as tf from '@tensorflow/tfjs';
import { type Architecture, createModel } from '../models/createModel.js';
import { checkTrainingFits, trainingMemoryBudget } from '../models/trainingFootprint.js';
import { createOptimizer, type OptimizerOptions, type TrainOptimizer } from '../optim.js';
import { createDataParallel, type DataParallel } from '../parallel/dataParallel.js';
import type { TrainingData } from './readTrainingData.js';

/** Options of {@link createTrainer}. */
export interface TrainerOptions {
  readonly architecture: Architecture;
  /** Seed of the initial weights. */
  readonly seed: number;
  readonly optimizer: OptimizerOptions;
  /** Rows per training step: with the image size, what training needs in memory. */
  readonly batchSize: number;
  /** Threads each step is split across on wasm/cpu (`auto`: every core, at most 8). */
  readonly threads: number | 'auto';
  /** Receives one line saying how many threads train. */
  readonly log?: (line: string) => void;
}

/** A model ready to train on a training set, and what trains it. */
export interface Trainer {
  readonly model: tf.LayersModel;
  readonly optimizer: TrainOptimizer;
  /** The data-parallel group every training step and scoring pass goes through. */
  readonly parallel: DataParallel;
  /** Stops the worker threads and frees the model and the optimizer. */
  dispose(): Promise<void>;
}

/**
 * Builds the model for a training set (its image shape and classes), its optimizer and the
 * data-parallel group: the scaffold `train` and the audit share.
 *
 * @example
 * ```ts
 * const trainer = await createTrainer(training, { architecture: 'small-cnn', seed: 1,
 *   optimizer: { kind: 'adam', lr: 1e-3 }, threads: 'auto' });
 * try { ... } finally { await trainer.dispose(); }
 * ```
 * @param training - what {@link readTrainingData} read.
 * @param options - architecture, seed, optimizer and threads.
 * @returns the trainer; dispose it when done.
 * @throws UsageError ABL306 when the images are too large to train the model in memory (before
 *   anything is built).
 */
export async function createTrainer(training: TrainingData, options: TrainerOptions): Promise<Trainer> {
  checkTrainingFits(
    options.architecture,
    training.shape,
    training.numClasses,
    options.batchSize,
    trainingMemoryBudget(tf.getBackend()),
  );
  const model = createModel({
    architecture: options.architecture,
    inputShape: training.shape,
    numClasses: training.numClasses,
    seed: options.seed,
  });
  const optimizer = createOptimizer(options.optimizer);
  let parallel: DataParallel;
  try {
    parallel = await createDataParallel(model, { threads: options.threads, log: options.log });
  } catch (error) {
    model.dispose();
    optimizer.dispose();
    throw error;
  }
  return {
    model,
    optimizer,
    parallel,
    async dispose() {
      await parallel.dispose();
      model.dispose();
      optimizer.dispose();
    },
  };
}
