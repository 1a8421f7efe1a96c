import type * as tf from '@tensorflow/tfjs';
import type { AugmentSetting } from '../train/batches/augment.js';
import type { DataParallel } from '../train/parallel/dataParallel.js';
import type { StepResult } from '../train/trainStep.js';
import type { TrainBatch } from '../train/types.js';
import { backdoorProbeGuard, heldOutAccuracyGuard, targetClassGuard } from './unlearnGuards.js';
import type { UnlearnMode } from './unlearnModes.js';
import type { UnlearnOptions, UnlearnProgress, UnlearnSchedule } from './unlearnTypes.js';

/**
 * The guards of {@link FlatUnlearnOptions}.
 *
 * @deprecated build a guard list with `heldOutAccuracyGuard`, `targetClassGuard` and
 *   `backdoorProbeGuard` and pass it as {@link UnlearnOptions.guards}.
 */
export interface AccuracyGuard {
  readonly rows: TrainBatch;
  readonly maxDrop: number;
  readonly probe?:
    | { readonly rows: TrainBatch; readonly target: number; readonly maxRise: number }
    | undefined;
  readonly targetClass?:
    | { readonly rows: TrainBatch; readonly label: number; readonly maxDrop: number }
    | undefined;
}

/**
 * The options {@link unlearn} took in earlier versions: one flat object whose fields depend on the mode.
 *
 * @deprecated use {@link UnlearnOptions} (schedule, rows, guards, training); still accepted.
 */
export interface FlatUnlearnOptions {
  readonly mode: UnlearnMode;
  readonly epochs: number;
  readonly referenceUnlearnEpochs?: number;
  readonly batchSize: number;
  readonly isolatedPerBatch?: number;
  readonly learningRate: number;
  readonly unlearnLearningRate?: number;
  readonly seed: number;
  readonly firstEpoch: number;
  readonly augment: AugmentSetting;
  readonly isolated: TrainBatch;
  readonly ascend?: boolean;
  readonly anchor?: TrainBatch | undefined;
  readonly excluded: ReadonlySet<string>;
  readonly distrust?: (model: tf.LayersModel) => Promise<readonly string[]>;
  readonly guard: AccuracyGuard;
  readonly resumeFrom?: UnlearnProgress | null;
  readonly retries?: number;
  readonly parallel?: DataParallel | undefined;
  readonly onStep?: (epoch: number, step: StepResult) => void;
  readonly onEpoch?: (progress: UnlearnProgress) => Promise<void>;
}

/**
 * The deprecated flat options in today's shape, the guards in the order they were always checked.
 *
 * @param flat - options in the earlier shape.
 * @returns the same options as {@link UnlearnOptions}.
 */
export function fromFlatOptions(flat: FlatUnlearnOptions): UnlearnOptions {
  const { guard } = flat;
  const guards = [heldOutAccuracyGuard(guard.rows, guard.maxDrop)];
  if (guard.targetClass && guard.targetClass.rows.ids.length > 0) {
    const t = guard.targetClass;
    guards.push(targetClassGuard(t.rows, t.label, t.maxDrop));
  }
  if (guard.probe && guard.probe.rows.ids.length > 0) {
    guards.push(backdoorProbeGuard(guard.probe.rows, guard.probe.target, guard.probe.maxRise));
  }
  const schedule: UnlearnSchedule =
    flat.mode === 'joint'
      ? {
          mode: 'joint',
          epochs: flat.epochs,
          learningRate: flat.learningRate,
          ascend: flat.ascend,
          isolatedPerBatch: flat.isolatedPerBatch,
        }
      : {
          mode: 'reference',
          fineTuneEpochs: flat.epochs,
          learningRate: flat.learningRate,
          unlearnEpochs: flat.referenceUnlearnEpochs ?? 5,
          unlearnLearningRate: flat.unlearnLearningRate ?? 5e-4,
        };
  return {
    schedule,
    rows: { isolated: flat.isolated, anchor: flat.anchor, excluded: flat.excluded },
    guards,
    training: {
      batchSize: flat.batchSize,
      seed: flat.seed,
      firstEpoch: flat.firstEpoch,
      augment: flat.augment,
      parallel: flat.parallel,
    },
    retries: flat.retries,
    distrust: flat.distrust,
    resumeFrom: flat.resumeFrom,
    onStep: flat.onStep,
    onEpoch: flat.onEpoch,
  };
}
