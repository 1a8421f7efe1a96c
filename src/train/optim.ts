import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../errors.js';

/** The optimizers {@link createOptimizer} builds. */
export type OptimizerKind = 'sgd' | 'adam';

/** What {@link createOptimizer} builds. */
export interface OptimizerOptions {
  readonly kind: OptimizerKind;
  /** Base learning rate (> 0). Schedules scale it per epoch. */
  readonly lr: number;
  /** SGD momentum in [0, 1) (default 0: plain SGD). Ignored by Adam. */
  readonly momentum?: number;
  /** Nesterov momentum (SGD only, needs momentum > 0; the ABL reference uses it). Default false. */
  readonly nesterov?: boolean;
  /**
   * Coupled L2 weight decay λ ≥ 0 (default 0): the training step adds λ·w to every trainable weight's
   * gradient before the optimizer sees it, exactly PyTorch's `weight_decay` for SGD and Adam (not
   * AdamW's decoupled decay). See `trainStep` for which weights.
   */
  readonly weightDecay?: number;
}

/**
 * An optimizer whose learning rate can be changed between steps, with the settings it was built from.
 * Build it outside `tf.tidy` (tfjs optimizers hold tensors that a tidy would dispose) and dispose it
 * when training ends.
 */
export interface TrainOptimizer {
  /** The tfjs optimizer that applies the gradients. */
  readonly optimizer: tf.Optimizer;
  readonly kind: OptimizerKind;
  /** The learning rate it was created with; schedules are relative to it. */
  readonly baseLr: number;
  /** The learning rate the next step uses. */
  readonly learningRate: number;
  /** Coupled L2 weight decay the training step applies, by default, with this optimizer. */
  readonly weightDecay: number;
  /** Sets the learning rate of the following steps; momentum and Adam moments are kept. */
  setLearningRate(lr: number): void;
  /** Frees the optimizer's state tensors (momentum buffers, Adam moments). */
  dispose(): void;
}

/**
 * Adam whose learning rate can be changed. tfjs's Adam reads its `learningRate` field on every step,
 * but the field is protected; this exposes a setter rather than writing it through a cast.
 */
class SchedulableAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/**
 * tfjs's Momentum optimizer, fixed to free everything it holds: its own `dispose` frees the momentum
 * buffers but not the −lr scalar its SGD base class keeps, one leaked tensor per optimizer.
 */
class DisposableMomentum extends tf.MomentumOptimizer {
  override dispose(): void {
    super.dispose();
    this.c.dispose();
  }
}

/**
 * Builds SGD (optionally with momentum or Nesterov momentum) or Adam, wrapped so a schedule can set the
 * learning rate each epoch.
 *
 * <span class="informal">The rate must be set through {@link TrainOptimizer.setLearningRate}: tfjs's
 * SGD and Momentum optimizers cache −lr in a tensor when built, so assigning their `learningRate` field
 * would be silently ignored (Adam reads the field, but it is protected). Adam uses β₁ = 0.9,
 * β₂ = 0.999, ε = 1e-8 (PyTorch's defaults).</span>
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
 * opt.setLearningRate(stepSchedule({ milestones: [40], gamma: 0.1 })(epoch, opt.baseLr));
 * ```
 * @see stepSchedule
 * @see cosineSchedule
 * @param options - kind, learning rate, momentum, Nesterov and weight decay.
 * @returns the optimizer; dispose it when done.
 * @throws UsageError for an unknown kind or an out-of-range setting.
 */
export function createOptimizer(options: OptimizerOptions): TrainOptimizer {
  const { kind, lr } = options;
  const momentum = options.momentum ?? 0;
  const nesterov = options.nesterov ?? false;
  const weightDecay = options.weightDecay ?? 0;
  checkLr(lr);
  if (!(momentum >= 0 && momentum < 1)) {
    throw new UsageError(`momentum must be in [0, 1), got ${momentum}`);
  }
  if (nesterov && (kind !== 'sgd' || momentum === 0)) {
    throw new UsageError('Nesterov momentum needs the sgd optimizer and a momentum > 0');
  }
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new UsageError(`weight decay must be a finite number ≥ 0, got ${weightDecay}`);
  }
  let optimizer: tf.SGDOptimizer | SchedulableAdam;
  if (kind === 'sgd') {
    optimizer = momentum > 0 ? new DisposableMomentum(lr, momentum, nesterov) : tf.train.sgd(lr);
  } else if (kind === 'adam') {
    optimizer = new SchedulableAdam(lr, 0.9, 0.999, 1e-8);
  } else {
    throw new UsageError(`unknown optimizer '${String(kind)}'; valid: sgd, adam`);
  }
  let current = lr;
  return {
    optimizer,
    kind,
    baseLr: lr,
    get learningRate() {
      return current;
    },
    weightDecay,
    setLearningRate(next: number) {
      checkLr(next);
      optimizer.setLearningRate(next);
      current = next;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}

/**
 * A learning-rate schedule: the rate for a (zero-based) epoch, given the base rate.
 *
 * @see constantSchedule
 * @see stepSchedule
 * @see cosineSchedule
 */
export type LrSchedule = (epoch: number, baseLr: number) => number;

/**
 * The base rate for every epoch (the ABL reference's isolation phase: lr 0.1 throughout).
 *
 * <span class="informal">The default when a run names no schedule.</span>
 *
 * @example
 * ```ts
 * constantSchedule()(7, 0.1); // 0.1
 * ```
 * @returns the schedule.
 */
export function constantSchedule(): LrSchedule {
  return (_epoch, baseLr) => baseLr;
}

/** Settings of {@link stepSchedule}. */
export interface StepScheduleOptions {
  /** Epochs (zero-based, increasing) at whose start the rate is multiplied by `gamma`. */
  readonly milestones: readonly number[];
  /** The factor applied at each milestone, in (0, 1] typically (default 0.1). */
  readonly gamma?: number;
}

/**
 * Step decay, like PyTorch's `MultiStepLR`: `baseLr · gamma^(number of milestones ≤ epoch)`.
 *
 * <span class="informal">The reference fine-tuning uses milestones 40 and 60 (of 60 epochs) with
 * gamma 0.1: 0.1, then 0.01, then 0.001.</span>
 *
 * @example
 * ```ts
 * const s = stepSchedule({ milestones: [2, 4], gamma: 0.1 });
 * [0, 1, 2, 3, 4].map((e) => s(e, 1)); // [1, 1, 0.1, 0.1, 0.01]
 * ```
 * @param options - milestones and factor.
 * @returns the schedule.
 * @throws UsageError when milestones are not increasing non-negative integers or gamma is not > 0.
 */
export function stepSchedule(options: StepScheduleOptions): LrSchedule {
  const { milestones } = options;
  const gamma = options.gamma ?? 0.1;
  if (milestones.some((m, i) => !Number.isInteger(m) || m < 0 || (i > 0 && m <= (milestones[i - 1] ?? -1)))) {
    throw new UsageError(
      `step schedule milestones must be increasing epoch numbers ≥ 0, got [${milestones}]`,
    );
  }
  if (!(Number.isFinite(gamma) && gamma > 0)) {
    throw new UsageError(`step schedule gamma must be a finite number > 0, got ${gamma}`);
  }
  return (epoch, baseLr) => baseLr * gamma ** milestones.filter((m) => m <= epoch).length;
}

/** Settings of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Epochs over which the rate falls from the base rate to `minLr` (≥ 1). */
  readonly epochs: number;
  /** The rate at and after epoch `epochs` (default 0). */
  readonly minLr?: number;
}

/**
 * Cosine annealing without restarts, like PyTorch's `CosineAnnealingLR`:
 * `minLr + (baseLr − minLr) · (1 + cos(π · epoch / epochs)) / 2`, held at `minLr` after `epochs`.
 *
 * <span class="informal">Smooth decay that spends more epochs near both ends than a linear
 * ramp.</span>
 *
 * @example
 * ```ts
 * cosineSchedule({ epochs: 10 })(5, 0.1); // 0.05
 * ```
 * @param options - length and floor.
 * @returns the schedule.
 * @throws UsageError when epochs is not a positive integer or minLr is negative.
 */
export function cosineSchedule(options: CosineScheduleOptions): LrSchedule {
  const { epochs } = options;
  const minLr = options.minLr ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new UsageError(`cosine schedule epochs must be a positive integer, got ${epochs}`);
  }
  if (!(Number.isFinite(minLr) && minLr >= 0)) {
    throw new UsageError(`cosine schedule minLr must be a finite number ≥ 0, got ${minLr}`);
  }
  return (epoch, baseLr) => {
    const t = Math.min(Math.max(epoch, 0), epochs) / epochs;
    return minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * t))) / 2;
  };
}

function checkLr(lr: number): void {
  if (!(Number.isFinite(lr) && lr > 0)) {
    throw new UsageError(`the learning rate must be a finite number > 0, got ${lr}`);
  }
}
