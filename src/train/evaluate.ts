import type * as tf from '@tensorflow/tfjs';
import { lastValueFrom, type Observable, reduce } from 'rxjs';
import { DataError, ErrorCode, UsageError } from '../errors.js';
import { type ScoreLossesOptions, scoreLosses } from './scoreLosses.js';
import type { TrainBatch } from './types.js';

/** Accuracy on the rows of one class. */
export interface ClassAccuracy {
  readonly label: number;
  readonly correct: number;
  readonly total: number;
  /** `correct / total`, or null when the data has no row of this class. */
  readonly accuracy: number | null;
}

/** What {@link accuracy} measured. */
export interface AccuracyResult {
  readonly correct: number;
  readonly total: number;
  /** Share of all rows predicted as their label. */
  readonly accuracy: number;
  /** One entry per class of the model, index = label. */
  readonly perClass: readonly ClassAccuracy[];
}

/**
 * Clean accuracy: the share of rows the model predicts as their label, overall and per class, in
 * inference mode.
 *
 * <span class="informal">Counts every class, the target class included (the ABL reference drops the
 * target class from its clean accuracy, which hid a collapse of that class in our reference run); use
 * `perClass` to watch the target class on its own.</span>
 *
 * @example
 * ```ts
 * const { accuracy: ca, perClass } = await accuracy(model, readBatches(testSet));
 * ```
 * @see attackSuccessRate
 * @param model - the model to evaluate.
 * @param batches$ - the evaluation rows (cold: subscribed once).
 * @param options - rows per forward pass.
 * @returns overall and per-class counts and rates.
 * @throws DataError (rejection) when the stream has no rows or a batch does not fit the model.
 */
export async function accuracy(
  model: tf.LayersModel,
  batches$: Observable<TrainBatch>,
  options: ScoreLossesOptions = {},
): Promise<AccuracyResult> {
  const numClasses = model.outputs[0]?.shape[1] ?? 0;
  const correct = new Array<number>(numClasses).fill(0);
  const total = new Array<number>(numClasses).fill(0);
  const rows = await lastValueFrom(
    batches$.pipe(
      scoreLosses(model, options),
      reduce((count, r) => {
        total[r.label] = (total[r.label] ?? 0) + 1;
        if (r.predicted === r.label) correct[r.label] = (correct[r.label] ?? 0) + 1;
        return count + 1;
      }, 0),
    ),
  );
  if (rows === 0) throw new DataError(ErrorCode.EmptyDataset, 'no rows to measure accuracy on');
  const allCorrect = correct.reduce((a, b) => a + b, 0);
  return {
    correct: allCorrect,
    total: rows,
    accuracy: allCorrect / rows,
    perClass: total.map((t, label) => {
      const c = correct[label] ?? 0;
      return { label, correct: c, total: t, accuracy: t > 0 ? c / t : null };
    }),
  };
}

/** What {@link attackSuccessRate} measured. */
export interface AttackSuccessResult {
  /** Rows the model put in the attacker's class. */
  readonly hits: number;
  readonly total: number;
  /** `hits / total`. */
  readonly rate: number;
}

/**
 * Attack success rate (ASR): the share of triggered rows the model puts in the attacker's class.
 *
 * <span class="informal">Meant for the triggered test set `poisonTestSet` writes, which follows the
 * standard convention: rows whose true class is the target are left out, and every row carries its
 * poisoned label. A row succeeds when it is predicted as `target`, or, with no target given
 * (all-to-all attacks), as its own poisoned label.</span>
 *
 * @example
 * ```ts
 * const { rate: asr } = await attackSuccessRate(model, readBatches(triggeredTestSet), 0);
 * ```
 * @see accuracy
 * @param model - the model to evaluate.
 * @param poisonedBatches$ - triggered rows (cold: subscribed once).
 * @param target - the attack's target class (all-to-one); omit to use each row's label.
 * @param options - rows per forward pass.
 * @returns hits, rows and their ratio.
 * @throws UsageError for a target outside the model's classes; DataError (rejection) when the stream
 *   has no rows or a batch does not fit the model.
 */
export async function attackSuccessRate(
  model: tf.LayersModel,
  poisonedBatches$: Observable<TrainBatch>,
  target?: number,
  options: ScoreLossesOptions = {},
): Promise<AttackSuccessResult> {
  const numClasses = model.outputs[0]?.shape[1] ?? 0;
  if (target !== undefined && !(Number.isInteger(target) && target >= 0 && target < numClasses)) {
    throw new UsageError(
      `the attack target must be a class of the model (0..${numClasses - 1}), got ${target}`,
    );
  }
  const { hits, total } = await lastValueFrom(
    poisonedBatches$.pipe(
      scoreLosses(model, options),
      reduce(
        (acc, r) => ({
          hits: acc.hits + (r.predicted === (target ?? r.label) ? 1 : 0),
          total: acc.total + 1,
        }),
        { hits: 0, total: 0 },
      ),
    ),
  );
  if (total === 0)
    throw new DataError(ErrorCode.EmptyDataset, 'no triggered rows to measure attack success on');
  return { hits, total, rate: hits / total };
}
