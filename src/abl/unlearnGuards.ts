import type * as tf from '@tensorflow/tfjs';
import { type ScoreLossesOptions, scoreBatch } from '../train/scoreLosses.js';
import type { TrainBatch } from '../train/types.js';

/**
 * One thing unlearning watches after every epoch to keep from damaging the model. {@link unlearn}
 * measures each guard before the first epoch and after every epoch; when one is violated, the epoch
 * is rolled back (and tried again at half the learning rate, or unlearning stops).
 *
 * <span class="informal">Every guard watches a share of rows (an accuracy, a rate of a predicted
 * class) against a reference: the best (or lowest) value of the epochs that passed. One interface,
 * so that a new guard is one more object in the list rather than one more block in the loop.</span>
 */
export interface UnlearnGuard {
  /** Short name, unique in a guard list: `accuracy`, `target-class`, `probe`. */
  readonly name: string;
  /** Why an epoch was rolled back when this guard fails (the report's `stopReason`). */
  readonly reason: string;
  /** Rows the guard measures on. */
  readonly rows: number;
  /** The watched share under the model's current weights (inference mode). */
  measure(model: tf.LayersModel, scoring: ScoreLossesOptions): Promise<number>;
  /** Whether `value` breaks the guard against `reference`, and the change the guard tolerated. */
  judge(reference: number, value: number): { readonly violated: boolean; readonly tolerance: number };
  /** The reference after an epoch that passed every guard. */
  advance(reference: number, value: number): number;
}

/**
 * The change in a share (an accuracy, the probe's rate) measured on `rows` rows that the guard treats
 * as real: `bound`, or two standard errors of the share where the rows are too few to resolve `bound`.
 *
 * <span class="informal">On the 3,000-row fixture the held-out set has about 130 rows, and accuracy
 * measured on them moves by ±3.7 points (one standard error at 75%) from noise alone: a 3-point bound
 * rolled back half of 12 fixture audits (seeds 1–6, one and two threads) after epochs whose probe
 * showed the backdoor going (98% → 15–23%). Two standard errors there is about 7.3 points; on 2,000
 * held-out rows it is 1.9, and the bound itself applies.</span>
 *
 * @example
 * ```ts
 * guardTolerance(0.03, 0.75, 130); // ≈ 0.076
 * guardTolerance(0.03, 0.75, 2000); // 0.03
 * ```
 * @param bound - the configured bound (`maxDrop`, `maxRise`).
 * @param share - the reference value the change is measured from (best accuracy, lowest rate).
 * @param rows - rows the share is measured on.
 * @returns the tolerated change, at least `bound`.
 */
export function guardTolerance(bound: number, share: number, rows: number): number {
  const p = Math.min(1, Math.max(0, share));
  return Math.max(bound, 2 * Math.sqrt((p * (1 - p)) / Math.max(1, rows)));
}

/** Options of {@link shareGuard}. */
export interface ShareGuardOptions {
  readonly name: string;
  readonly reason: string;
  readonly rows: TrainBatch;
  /** The class a row counts for when predicted as it: a fixed label, or each row's own (accuracy). */
  readonly predictedAs: number | 'own-label';
  /** `fall`: the share must not fall below its best; `rise`: it must not rise above its lowest. */
  readonly direction: 'fall' | 'rise';
  /** The tolerated change (widened to two standard errors, see {@link guardTolerance}). */
  readonly bound: number;
}

/**
 * A guard on the share of `rows` predicted as a class: the building block of the three guards the
 * audit uses.
 *
 * @example
 * ```ts
 * const guard = shareGuard({ name: 'accuracy', reason: 'accuracy-drop', rows: heldOut,
 *   predictedAs: 'own-label', direction: 'fall', bound: 0.03 });
 * ```
 * @param options - the rows, what counts, the direction and the bound.
 * @returns the guard.
 */
export function shareGuard(options: ShareGuardOptions): UnlearnGuard {
  const { rows, predictedAs, direction, bound } = options;
  const fall = direction === 'fall';
  return {
    name: options.name,
    reason: options.reason,
    rows: rows.ids.length,
    async measure(model, scoring) {
      const records = await scoreBatch(model, rows, scoring);
      const hits = records.filter(
        (r) => r.predicted === (predictedAs === 'own-label' ? r.label : predictedAs),
      );
      return hits.length / Math.max(1, records.length);
    },
    judge(reference, value) {
      const tolerance = guardTolerance(bound, reference, rows.ids.length);
      return { violated: fall ? value < reference - tolerance : value > reference + tolerance, tolerance };
    },
    advance: (reference, value) => (fall ? Math.max(reference, value) : Math.min(reference, value)),
  };
}

/**
 * Held-out accuracy: rolls back when accuracy on held-out clean rows (never trained on) falls more
 * than `maxDrop` below the best seen, before unlearning included.
 *
 * @param rows - the held-out rows.
 * @param maxDrop - e.g. 0.03 for 3 points.
 * @returns the guard, named `accuracy`.
 */
export function heldOutAccuracyGuard(rows: TrainBatch, maxDrop: number): UnlearnGuard {
  return shareGuard({
    name: 'accuracy',
    reason: 'accuracy-drop',
    rows,
    predictedAs: 'own-label',
    direction: 'fall',
    bound: maxDrop,
  });
}

/**
 * The suspected target class's own trusted rows: unlearning pushes the isolated rows away from that
 * class, and a model can comply by no longer predicting it at all. Rolls back when the share of these
 * rows predicted as `label` falls more than `maxDrop` below its best.
 *
 * @param rows - trusted rows of the class.
 * @param label - the class.
 * @param maxDrop - e.g. 0.05.
 * @returns the guard, named `target-class`.
 */
export function targetClassGuard(rows: TrainBatch, label: number, maxDrop: number): UnlearnGuard {
  return shareGuard({
    name: 'target-class',
    reason: 'target-class-drop',
    rows,
    predictedAs: label,
    direction: 'fall',
    bound: maxDrop,
  });
}

/**
 * A probe of the backdoor that needs no ground truth: rows the isolation scored as suspicious that
 * unlearning never trains on. The share of them the model puts in `target` tracks the attack's
 * success; when it rises more than `maxRise` above its lowest, the backdoor is being learned again.
 *
 * @param rows - the suspect rows.
 * @param target - the suspected target class.
 * @param maxRise - e.g. 0.015.
 * @returns the guard, named `probe`.
 */
export function backdoorProbeGuard(rows: TrainBatch, target: number, maxRise: number): UnlearnGuard {
  return shareGuard({
    name: 'probe',
    reason: 'backdoor-relearned',
    rows,
    predictedAs: target,
    direction: 'rise',
    bound: maxRise,
  });
}
