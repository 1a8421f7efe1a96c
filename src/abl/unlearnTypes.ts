import type * as tf from '@tensorflow/tfjs';
import type { AugmentSetting } from '../train/batches/augment.js';
import type { LrSchedule } from '../train/optim.js';
import type { DataParallel } from '../train/parallel/dataParallel.js';
import type { StepResult } from '../train/trainStep.js';
import type { TrainBatch } from '../train/types.js';
import type { UnlearnGuard } from './unlearnGuards.js';

/** `joint` mode: the paper's global gradient ascent in every step. */
export interface JointSchedule {
  readonly mode: 'joint';
  readonly epochs: number;
  readonly learningRate: number;
  /**
   * Whether to ascend on the isolated rows (default true). False trains on the clean part alone, the
   * isolated rows left out: what to do when the isolation found no clear backdoor, since ascending on
   * rows that are not poisoned only damages the model.
   */
  readonly ascend?: boolean;
  /** Isolated rows added to every clean batch (default: a quarter of the batch size, at most all). */
  readonly isolatedPerBatch?: number | undefined;
  /** The rate of each epoch from `learningRate` (default: constant), e.g. a cosine for a fresh model. */
  readonly lrSchedule?: LrSchedule | undefined;
}

/** `reference` mode: the reference code's fine-tuning, then unlearning the isolated rows alone. */
export interface ReferenceSchedule {
  readonly mode: 'reference';
  readonly fineTuneEpochs: number;
  readonly learningRate: number;
  /** Unlearning epochs after fine-tuning, the first of which only evaluates (the reference's 5). */
  readonly unlearnEpochs: number;
  /** Learning rate of the unlearning epochs (the reference's 5e-4). */
  readonly unlearnLearningRate: number;
  /** The rate of each fine-tuning epoch from `learningRate` (default: constant). */
  readonly lrSchedule?: LrSchedule | undefined;
}

export type UnlearnSchedule = JointSchedule | ReferenceSchedule;

/** The rows unlearning works with. */
export interface UnlearnRows {
  /** The isolated rows themselves (pixels in memory; a small share of the data). */
  readonly isolated: TrainBatch;
  /**
   * `joint` only: trusted rows of the isolated rows' label (the suspected target class). As many as
   * isolated rows are added to each batch and descended, so that ascent cannot be satisfied by the
   * model predicting the class less everywhere (which collapsed the class on small data).
   */
  readonly anchor?: TrainBatch | null | undefined;
  /** Ids not to train on as clean rows: the isolated rows, held-out and distrusted rows. */
  readonly excluded: ReadonlySet<string>;
}

/** How the epochs run: the same for every mode. */
export interface UnlearnTraining {
  readonly batchSize: number;
  readonly seed: number;
  /** Epoch number of the first unlearning epoch in the run's numbering (orders differ from isolation's). */
  readonly firstEpoch: number;
  readonly augment: AugmentSetting;
  /** Threads to split training steps and the guards' scoring across (from `createDataParallel`). */
  readonly parallel?: DataParallel | undefined;
}

/** Options of {@link unlearn}. */
export interface UnlearnOptions {
  readonly schedule: UnlearnSchedule;
  readonly rows: UnlearnRows;
  /** Watched after every epoch; any violated guard rolls the epoch back (see {@link UnlearnGuard}). */
  readonly guards: readonly UnlearnGuard[];
  readonly training: UnlearnTraining;
  /**
   * Times an epoch the guards rolled back is tried again, from the same weights and optimizer state, at
   * half the learning rate, before unlearning stops (default 2). 0 stops at the first roll-back.
   */
  readonly retries?: number;
  /**
   * Called after every epoch that passed the guards: ids of further rows to stop training on as clean,
   * e.g. rows of the suspected target class that the model, its backdoor weakened, no longer believes.
   * They stay excluded for the rest of the run and are recorded in the progress (so a resumed run
   * excludes them too).
   */
  readonly distrust?: ((model: tf.LayersModel) => Promise<readonly string[]>) | undefined;
  /**
   * Epochs at the start whose guard measures become the references instead of being judged (default
   * 0). A fresh model has nothing to fall from or rise above until it has learned the data: judged
   * against its random start, the backdoor probe would read the class being learned as the backdoor.
   */
  readonly warmupEpochs?: number;
  /** Resume: where an interrupted run stood. */
  readonly resumeFrom?: UnlearnProgress | null;
  readonly onStep?: (epoch: number, step: StepResult) => void;
  /** Called after each epoch (after the guards): the place to checkpoint. */
  readonly onEpoch?: (progress: UnlearnProgress) => Promise<void>;
}

/** A guard's value after one epoch. */
export interface GuardMeasure {
  readonly name: string;
  readonly value: number;
  /** The change the guard tolerated on this epoch (its bound, or two standard errors). */
  readonly tolerance: number;
  readonly violated: boolean;
}

/** One unlearning epoch. */
export interface UnlearnEpochRecord {
  /** 1-based. */
  readonly epoch: number;
  readonly phase: 'joint' | 'fine-tune' | 'unlearn' | 'evaluate';
  readonly learningRate: number;
  /** The objective averaged over the epoch's rows (null for an evaluation-only epoch). */
  readonly meanObjective: number | null;
  /** Each guard's measure after the epoch, in the guards' order. */
  readonly measures: readonly GuardMeasure[];
  /** Mean cross-entropy of the isolated rows after the epoch (rises as they are unlearned). */
  readonly isolatedLoss: number;
  readonly rolledBack: boolean;
  /** Whether this rolled-back epoch is tried again at half the learning rate (the next record). */
  readonly retried: boolean;
  /** Rows `distrust` excluded from training after this epoch. */
  readonly newlyDistrusted: number;
  /** Why the epoch was rolled back: the first violated guard's reason, `loss-not-finite`, or null. */
  readonly stopReason: string | null;
}

/** A guard's reference values. */
export interface GuardState {
  readonly name: string;
  /** Its value before unlearning. */
  readonly initial: number;
  /** The best (or lowest) value of the epochs that passed. */
  readonly reference: number;
}

/** Where unlearning stands; enough to resume it. */
export interface UnlearnProgress {
  readonly epochsDone: number;
  /** One per guard, in the guards' order. */
  readonly guards: readonly GuardState[];
  readonly history: readonly UnlearnEpochRecord[];
  /** Whether the guards stopped unlearning (the model was rolled back to the last good epoch). */
  readonly stopped: boolean;
  /** Rows excluded from training by `distrust` so far. */
  readonly distrusted: readonly string[];
  /** The factor on every learning rate, halved at each retry. */
  readonly learningRateScale: number;
  /** Retries used so far. */
  readonly retries: number;
}
