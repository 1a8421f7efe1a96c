import type * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { UsageError } from '../errors.js';
import type { EpochSource } from '../train/batches/epochs.js';
import { lgaBatchMean, lgaPerExample } from '../train/losses.js';
import type { TrainOptimizer } from '../train/optim.js';
import type { DataParallel } from '../train/parallel/dataParallel.js';
import { scoreLosses } from '../train/scoreLosses.js';
import type { EpochResult } from '../train/trainEpoch.js';
import { trainEpoch } from '../train/trainEpoch.js';
import type { StepResult } from '../train/trainStep.js';
import type { LgaMode } from './lgaModes.js';
import { appendEpochLosses, type LossTrajectories } from './lossTrajectories.js';

export { LGA_MODES, type LgaMode } from './lgaModes.js';

/** Options of {@link isolate}. */
export interface IsolateOptions {
  /** Isolation epochs to run in all (a resumed run counts the ones already done). */
  readonly epochs: number;
  /** LGA's loss floor γ. */
  readonly gamma: number;
  readonly lga: LgaMode;
  readonly batchSize: number;
  /** The run's seed: epoch e trains in the order `epochSeed(seed, e)`. */
  readonly seed: number;
  /** Learning rate of every isolation epoch. */
  readonly learningRate: number;
  /** Where to start when resuming: the trajectories of the epochs already done (null for none). */
  readonly resumeFrom?: LossTrajectories | null;
  /** Threads to split training steps and scoring passes across (from `createDataParallel`). */
  readonly parallel?: DataParallel | undefined;
  readonly onStep?: (epoch: number, step: StepResult) => void;
  /**
   * Called after each epoch has been trained and scored, before the next one starts: the place to
   * checkpoint (a run resumed from here continues identically).
   */
  readonly onEpoch?: (epoch: number, trajectories: LossTrajectories, result: EpochResult) => Promise<void>;
}

/**
 * ABL's isolation phase: trains `model` from its current state with LGA for the remaining isolation
 * epochs and, after every epoch, records every row's loss in inference mode without augmentation.
 *
 * <span class="informal">Backdoored rows, learned through a shortcut, fall far below γ while LGA holds
 * clean rows near it; the trajectory of each row's loss over the epochs is what the isolation score is
 * computed from. Epoch e's order is seeded by `epochSeed(seed, e)`, so a run resumed after epoch e
 * (model, optimizer and trajectories restored) ends exactly like an uninterrupted one.</span>
 *
 * @example
 * ```ts
 * const trajectories = await isolate(model, optimizer, data, { epochs: 2, gamma: 0.5, lga: 'per-example', batchSize: 64, seed: 1, learningRate: 0.01 });
 * ```
 * @param model - the model to train (its weights change).
 * @param optimizer - its optimizer (state carried across epochs).
 * @param data - the training rows, one pass per epoch.
 * @param options - epochs, γ, LGA form, batch size, seed, learning rate and hooks.
 * @returns every row's loss after every isolation epoch.
 * @throws UsageError for an epoch count below 1; whatever training or scoring throws.
 */
export async function isolate(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  data: EpochSource,
  options: IsolateOptions,
): Promise<LossTrajectories> {
  if (!(Number.isInteger(options.epochs) && options.epochs >= 1)) {
    throw new UsageError(`isolation needs at least one epoch, got ${options.epochs}`);
  }
  const objective = options.lga === 'batch' ? lgaBatchMean(options.gamma) : lgaPerExample(options.gamma);
  let trajectories = options.resumeFrom ?? null;
  for (let epoch = trajectories?.losses.length ?? 0; epoch < options.epochs; epoch++) {
    const result = await trainEpoch(
      model,
      data.batchesForEpoch(epoch, { batchSize: options.batchSize, seed: options.seed, augment: false }),
      {
        optimizer,
        objective,
        learningRate: options.learningRate,
        parallel: options.parallel,
        onStep: (step) => options.onStep?.(epoch, step),
      },
    );
    const records = await lastValueFrom(
      data.forEpoch(epoch).pipe(scoreLosses(model, { parallel: options.parallel }), toArray()),
    );
    trajectories = appendEpochLosses(trajectories, records);
    await options.onEpoch?.(epoch, trajectories, result);
  }
  return trajectories as LossTrajectories;
}
