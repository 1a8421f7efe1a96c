import type * as tf from '@tensorflow/tfjs';
import type { Observable } from 'rxjs';
import { decodeExamples } from '../../data/decodeExamples.js';
import type { ColumnOverrides } from '../../data/inferColumns.js';
import { readDataset } from '../../io/readDataset.js';
import { toTrainBatches } from '../batches/toTrainBatches.js';
import { type AccuracyResult, type AttackSuccessResult, accuracy, attackSuccessRate } from '../evaluate.js';
import type { DataParallel } from '../parallel/dataParallel.js';
import type { TrainBatch } from '../types.js';

/** The test sets a model is measured on. */
export interface TestSets {
  /** Clean test set, for clean accuracy. */
  readonly test: string | null;
  /** Triggered test set (from `abl-audit poison --test-out`), for attack success. */
  readonly backdoorTest: string | null;
  /** The attack's target class; attack success is not measured without one. */
  readonly target: number | null;
}

/** What {@link evaluateOnTestSets} measured (null where the set was not given). */
export interface TestSetMetrics {
  readonly accuracy: AccuracyResult | null;
  readonly attack: (AttackSuccessResult & { readonly target: number }) | null;
}

/** How the test sets are read: like the training set, labels checked against its classes. */
export interface TestSetReading {
  readonly overrides: ColumnOverrides;
  readonly numClasses: number;
  readonly parallel?: DataParallel | undefined;
}

/**
 * Measures a model on the clean and triggered test sets that were given: clean accuracy (all
 * classes) and attack success rate. Test rows are decoded with the training set's column overrides
 * and their labels checked against its classes, for `train` and the audit alike.
 *
 * @example
 * ```ts
 * const m = await evaluateOnTestSets(model, { test: 'test.parquet', backdoorTest: null, target: null },
 *   { overrides: {}, numClasses: 10 });
 * m.accuracy?.accuracy;
 * ```
 * @param model - the model.
 * @param sets - the test sets and the attack target.
 * @param reading - column overrides, the class count and the threads.
 * @returns the metrics of the sets given.
 * @throws DataError for a test row whose label is not a class of the model, or an empty set.
 */
export async function evaluateOnTestSets(
  model: tf.LayersModel,
  sets: TestSets,
  reading: TestSetReading,
): Promise<TestSetMetrics> {
  const batches = (path: string): Observable<TrainBatch> =>
    readDataset(path).pipe(
      decodeExamples({ ...reading.overrides, source: path, numClasses: reading.numClasses }),
      toTrainBatches({ batchSize: 256, seed: 0, shuffleBuffer: 1 }),
    );
  const scoring = { parallel: reading.parallel };
  const ca = sets.test ? await accuracy(model, batches(sets.test), scoring) : null;
  const target = sets.target;
  const asr =
    sets.backdoorTest && target !== null
      ? { ...(await attackSuccessRate(model, batches(sets.backdoorTest), target, scoring)), target }
      : null;
  return { accuracy: ca, attack: asr };
}
