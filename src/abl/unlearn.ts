import * as tf from '@tensorflow/tfjs';
import { map, type Observable, of } from 'rxjs';
import { ErrorCode, TrainError, UsageError } from '../errors.js';
import type { AugmentSetting } from '../train/batches/augment.js';
import { type EpochSource, epochSeed } from '../train/batches/epochs.js';
import { concatBatches, selectRows } from '../train/batches/selectRows.js';
import { toTrainBatches } from '../train/batches/toTrainBatches.js';
import { accuracy } from '../train/evaluate.js';
import { crossEntropyObjective, type Objective } from '../train/losses.js';
import type { TrainOptimizer } from '../train/optim.js';
import type { DataParallel } from '../train/parallel/dataParallel.js';
import { type ScoreLossesOptions, scoreBatch } from '../train/scoreLosses.js';
import { trainEpoch } from '../train/trainEpoch.js';
import type { StepResult } from '../train/trainStep.js';
import type { TrainBatch } from '../train/types.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../util/random.js';
import { ggaObjective } from './ggaObjective.js';
import { restoreOptimizer, snapshotOptimizer } from './trainingState.js';

/**
 * How the cleaned model is made after isolation:
 * - `joint`: the paper's global gradient ascent, `E_clean[ℓ] − E_isolated[ℓ]` in every step: each
 *   clean batch carries a share of isolated rows to ascend on, so even an isolated set smaller than one
 *   batch is unlearned in every step of every epoch;
 * - `reference`: the reference code's sequence: fine-tune on the clean part, then unlearn the isolated
 *   rows alone (minimise −ℓ at a small learning rate; the first unlearning epoch only evaluates).
 */
export const UNLEARN_MODES = ['joint', 'reference'] as const;
export type UnlearnMode = (typeof UNLEARN_MODES)[number];

/** The accuracy guard: what {@link unlearn} watches to keep from destroying the model. */
export interface AccuracyGuard {
  /** Held-out clean rows (never trained on during unlearning) to measure accuracy on. */
  readonly rows: TrainBatch;
  /**
   * Stop and roll back when accuracy on `rows` falls more than this below the best seen (before
   * unlearning included), e.g. 0.03 for 3 points.
   */
  readonly maxDrop: number;
  /**
   * A probe of the backdoor that needs no ground truth: rows the isolation scored as suspicious (the
   * lower part of the suspected target class) that unlearning never trains on. The share of them the
   * model puts in `target` tracks the attack's success; when it rises more than `maxRise` above its
   * lowest value the backdoor is being learned again, and unlearning rolls back and stops.
   */
  readonly probe?:
    | { readonly rows: TrainBatch; readonly target: number; readonly maxRise: number }
    | undefined;
  /**
   * The suspected target class's own rows (those trusted as clean): unlearning pushes the isolated
   * rows away from that class, and a model can comply by no longer predicting it at all. When the
   * share of these rows predicted as `label` falls more than `maxDrop` below its best, unlearning
   * rolls back and stops.
   */
  readonly targetClass?:
    | { readonly rows: TrainBatch; readonly label: number; readonly maxDrop: number }
    | undefined;
}

/** Options of {@link unlearn}. */
export interface UnlearnOptions {
  readonly mode: UnlearnMode;
  /** `joint`: epochs of global gradient ascent. `reference`: fine-tuning epochs. */
  readonly epochs: number;
  /** `reference` only: unlearning epochs, the first of which only evaluates (the reference's 5). */
  readonly referenceUnlearnEpochs?: number;
  readonly batchSize: number;
  /** `joint`: isolated rows added to every clean batch (default: a quarter of the batch size, at most all of them). */
  readonly isolatedPerBatch?: number;
  readonly learningRate: number;
  /** `reference`: the learning rate of its unlearning epochs (the reference's 5e-4). */
  readonly unlearnLearningRate?: number;
  readonly seed: number;
  /** Epoch number of the first unlearning epoch in the run's numbering (orders differ from isolation's). */
  readonly firstEpoch: number;
  readonly augment: AugmentSetting;
  /** The isolated rows themselves (pixels in memory; a small share of the data). */
  readonly isolated: TrainBatch;
  /**
   * `joint` only: whether to ascend on the isolated rows (default true). False trains on the clean part
   * alone, the isolated rows left out: what to do when the isolation found no clear backdoor, since
   * ascending on rows that are not poisoned only damages the model.
   */
  readonly ascend?: boolean;
  /**
   * `joint` only: trusted rows of the isolated rows' label (the suspected target class). As many as
   * isolated rows are added to each batch and descended, so that ascent cannot be satisfied by the
   * model predicting the class less everywhere (which collapsed the class on small data).
   */
  readonly anchor?: TrainBatch | undefined;
  /** Ids not to train on as clean rows: the isolated rows and the guard's held-out rows. */
  readonly excluded: ReadonlySet<string>;
  /**
   * Called after every epoch (after the guard): ids of further rows to stop training on as clean, e.g.
   * rows of the suspected target class that the model, its backdoor weakened, no longer believes.
   * They stay excluded for the rest of the run and are recorded in the progress (so a resumed run
   * excludes them too).
   */
  readonly distrust?: (model: tf.LayersModel) => Promise<readonly string[]>;
  readonly guard: AccuracyGuard;
  /** Resume: unlearning epochs already done, and the guard's best accuracy so far. */
  readonly resumeFrom?: UnlearnProgress | null;
  /**
   * Times an epoch the guard rolled back is tried again, from the same weights and optimizer state, at
   * half the learning rate, before unlearning stops (default 2). 0 stops at the first roll-back.
   */
  readonly retries?: number;
  /** Threads to split training steps and the guard's scoring across (from `createDataParallel`). */
  readonly parallel?: DataParallel | undefined;
  readonly onStep?: (epoch: number, step: StepResult) => void;
  /** Called after each epoch that passed the guard: the place to checkpoint. */
  readonly onEpoch?: (progress: UnlearnProgress) => Promise<void>;
}

/** One unlearning epoch, as the report records it. */
export interface UnlearnEpochRecord {
  /** 1-based. */
  readonly epoch: number;
  readonly phase: 'joint' | 'fine-tune' | 'unlearn' | 'evaluate';
  readonly learningRate: number;
  /** The objective averaged over the epoch's rows (null for an evaluation-only epoch). */
  readonly meanObjective: number | null;
  /** Accuracy on the guard's held-out rows after the epoch. */
  readonly guardAccuracy: number;
  /** Share of the guard's probe rows predicted as the target (null without a probe). */
  readonly probeTargetRate: number | null;
  /** Accuracy on the guard's target-class rows (null without them). */
  readonly targetClassAccuracy: number | null;
  /** Mean cross-entropy of the isolated rows after the epoch (rises as they are unlearned). */
  readonly isolatedLoss: number;
  readonly rolledBack: boolean;
  /** Whether this rolled-back epoch is tried again at half the learning rate (the next record). */
  readonly retried: boolean;
  /**
   * The accuracy fall the guard tolerated on this epoch: `maxDrop`, or two standard errors of the
   * held-out accuracy when the held-out rows are too few to measure `maxDrop` (see guardTolerance).
   */
  readonly accuracyTolerance: number;
  /** Rows `distrust` excluded from training after this epoch. */
  readonly newlyDistrusted: number;
  /** Why this epoch was rolled back (a guard, or a loss that became NaN or infinite), or null. */
  readonly stopReason:
    | 'accuracy-drop'
    | 'target-class-drop'
    | 'backdoor-relearned'
    | 'loss-not-finite'
    | null;
}

/** Default of {@link UnlearnOptions.retries}. */
export const DEFAULT_GUARD_RETRIES = 2;

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

/** Where unlearning stands; enough to resume it. */
export interface UnlearnProgress {
  readonly epochsDone: number;
  /** Guard accuracy before unlearning. */
  readonly initialAccuracy: number;
  readonly bestAccuracy: number;
  /** The probe's target rate before unlearning, and the lowest since (null without a probe). */
  readonly initialProbeRate: number | null;
  readonly lowestProbeRate: number | null;
  /** The best accuracy on the guard's target-class rows so far (null without them). */
  readonly bestTargetClassAccuracy: number | null;
  readonly history: readonly UnlearnEpochRecord[];
  /** Whether the guard stopped unlearning (the model was rolled back to the last good epoch). */
  readonly stopped: boolean;
  /** Rows excluded from training by `distrust` so far. */
  readonly distrusted: readonly string[];
  /** The factor on every learning rate, halved at each retry (absent in older checkpoints: 1). */
  readonly learningRateScale?: number;
  /** Retries used so far (absent in older checkpoints: 0). */
  readonly retries?: number;
}

/**
 * ABL's second stage: turns the isolation model into the cleaned model by unlearning the isolated rows
 * while (jointly, or first) learning the rest, under an accuracy guard.
 *
 * <span class="informal">The guard measures accuracy on held-out clean rows after every epoch, the
 * target class's own accuracy and the probe's target rate; when accuracy falls more than `maxDrop`
 * below the best seen, the target class's more than its `maxDrop`, or the probe rate rises more than
 * `maxRise` above its lowest, the epoch's weights are thrown away, the model is
 * restored to the last epoch that passed, and unlearning stops. Ascent that destroys the model is the
 * known failure of unlearning with a too-high learning rate.</span>
 *
 * @param model - the model after isolation (its weights change).
 * @param optimizer - the optimizer to continue with.
 * @param data - the training rows, one pass per epoch.
 * @param options - mode, epochs, rates, isolated rows, guard and hooks.
 * @returns the final progress record (history, whether the guard stopped it).
 * @throws UsageError for a bad epoch count or an empty isolated set.
 */
export async function unlearn(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  data: EpochSource,
  options: UnlearnOptions,
): Promise<UnlearnProgress> {
  const { mode, isolated, guard } = options;
  const referenceUnlearn = mode === 'reference' ? (options.referenceUnlearnEpochs ?? 5) : 0;
  const total = options.epochs + referenceUnlearn;
  if (!(Number.isInteger(options.epochs) && options.epochs >= 0 && total >= 1)) {
    throw new UsageError(`unlearning needs at least one epoch, got ${options.epochs}`);
  }
  if (isolated.ids.length === 0) throw new UsageError('there are no isolated rows to unlearn');
  const isolatedSet = new Set(isolated.ids);
  const scoring = { parallel: options.parallel };
  const guardAccuracy = async () => (await accuracy(model, of(guard.rows), scoring)).accuracy;
  const probe = guard.probe && guard.probe.rows.ids.length > 0 ? guard.probe : null;
  const targetClass = guard.targetClass && guard.targetClass.rows.ids.length > 0 ? guard.targetClass : null;
  const targetClassAccuracy = () =>
    targetClass ? sharePredictedAs(model, targetClass.rows, targetClass.label, scoring) : null;
  const probeRate = () => (probe ? sharePredictedAs(model, probe.rows, probe.target, scoring) : null);
  const isolatedLoss = async () => meanLoss(model, isolated, scoring);

  let progress: UnlearnProgress = options.resumeFrom ?? {
    epochsDone: 0,
    initialAccuracy: await guardAccuracy(),
    bestAccuracy: 0,
    initialProbeRate: await probeRate(),
    lowestProbeRate: null,
    bestTargetClassAccuracy: await targetClassAccuracy(),
    history: [],
    stopped: false,
    distrusted: [],
  };
  if (!options.resumeFrom) {
    progress = {
      ...progress,
      bestAccuracy: progress.initialAccuracy,
      lowestProbeRate: progress.initialProbeRate,
    };
  }

  const excluded = new Set([...options.excluded, ...progress.distrusted]);
  const maxRetries = options.retries ?? DEFAULT_GUARD_RETRIES;
  for (let e = progress.epochsDone; e < total && !progress.stopped; ) {
    const epochNumber = options.firstEpoch + e;
    const scale = progress.learningRateScale ?? 1;
    const snapshot = model.getWeights().map((w) => w.clone());
    const optimizerSnapshot = await snapshotOptimizer(optimizer);
    let phase: UnlearnEpochRecord['phase'];
    let lr: number;
    let objective: Objective | null;
    let batches$: Observable<TrainBatch>;
    if (mode === 'joint' || e < options.epochs) {
      phase = mode === 'joint' ? 'joint' : 'fine-tune';
      lr = options.learningRate * scale;
      const ascend = mode === 'joint' && options.ascend !== false;
      objective = ascend ? ggaObjective(isolatedSet) : crossEntropyObjective;
      const clean$ = cleanBatches(data, epochNumber, excluded, options);
      batches$ = ascend ? clean$.pipe(map(withIsolatedRows(isolated, options, epochNumber))) : clean$;
    } else {
      const evaluateOnly = e === options.epochs;
      phase = evaluateOnly ? 'evaluate' : 'unlearn';
      lr = (options.unlearnLearningRate ?? 5e-4) * scale;
      objective = evaluateOnly ? null : negatedCrossEntropy;
      batches$ = of(isolated).pipe(
        toTrainBatches({ batchSize: options.batchSize, seed: epochSeed(options.seed, epochNumber) }),
      );
    }
    let meanObjective: number | null = null;
    // Ascent that blows up (a NaN or infinite loss) is the classic failure of unlearning at too high a
    // rate: rolled back and retried like a guard's failure, not the end of the audit.
    let lossNotFinite = false;
    if (objective) {
      try {
        const result = await trainEpoch(model, batches$, {
          optimizer,
          objective,
          learningRate: lr,
          parallel: options.parallel,
          onStep: (step) => options.onStep?.(e, step),
        });
        meanObjective = result.meanLoss;
      } catch (err) {
        if (!(err instanceof TrainError && err.code === ErrorCode.LossNotFinite)) {
          tf.dispose([...snapshot, ...optimizerSnapshot.map((s) => s.tensor)]);
          throw err;
        }
        lossNotFinite = true;
        model.setWeights(snapshot);
        await restoreOptimizer(optimizer, optimizerSnapshot);
      }
    }
    const acc = await guardAccuracy();
    const rate = await probeRate();
    const relearning =
      !lossNotFinite &&
      probe !== null &&
      rate !== null &&
      progress.lowestProbeRate !== null &&
      rate >
        progress.lowestProbeRate +
          guardTolerance(probe.maxRise, progress.lowestProbeRate, probe.rows.ids.length);
    const tca = await targetClassAccuracy();
    const targetDrop =
      !lossNotFinite &&
      targetClass !== null &&
      tca !== null &&
      progress.bestTargetClassAccuracy !== null &&
      tca <
        progress.bestTargetClassAccuracy -
          guardTolerance(targetClass.maxDrop, progress.bestTargetClassAccuracy, targetClass.rows.ids.length);
    const accuracyTolerance = guardTolerance(guard.maxDrop, progress.bestAccuracy, guard.rows.ids.length);
    const accuracyDrop = !lossNotFinite && acc < progress.bestAccuracy - accuracyTolerance;
    const failed = lossNotFinite || accuracyDrop || relearning || targetDrop;
    const retried = failed && (progress.retries ?? 0) < maxRetries;
    if (failed && !lossNotFinite) {
      model.setWeights(snapshot);
      await restoreOptimizer(optimizer, optimizerSnapshot);
    }
    tf.dispose(snapshot);
    tf.dispose(optimizerSnapshot.map((s) => s.tensor));
    const newlyDistrusted =
      failed || !options.distrust ? [] : (await options.distrust(model)).filter((id) => !excluded.has(id));
    for (const id of newlyDistrusted) excluded.add(id);
    const record: UnlearnEpochRecord = {
      epoch: e + 1,
      phase,
      learningRate: lr,
      meanObjective,
      guardAccuracy: acc,
      probeTargetRate: rate,
      isolatedLoss: await isolatedLoss(),
      rolledBack: failed,
      retried,
      accuracyTolerance,
      targetClassAccuracy: tca,
      stopReason: !failed
        ? null
        : lossNotFinite
          ? 'loss-not-finite'
          : accuracyDrop
            ? 'accuracy-drop'
            : targetDrop
              ? 'target-class-drop'
              : 'backdoor-relearned',
      newlyDistrusted: newlyDistrusted.length,
    };
    progress = {
      ...progress,
      distrusted: [...progress.distrusted, ...newlyDistrusted],
      epochsDone: retried ? e : e + 1,
      learningRateScale: retried ? scale / 2 : scale,
      retries: (progress.retries ?? 0) + (retried ? 1 : 0),
      bestAccuracy: failed ? progress.bestAccuracy : Math.max(progress.bestAccuracy, acc),
      bestTargetClassAccuracy:
        failed || tca === null || progress.bestTargetClassAccuracy === null
          ? progress.bestTargetClassAccuracy
          : Math.max(progress.bestTargetClassAccuracy, tca),
      lowestProbeRate:
        failed || rate === null || progress.lowestProbeRate === null
          ? progress.lowestProbeRate
          : Math.min(progress.lowestProbeRate, rate),
      history: [...progress.history, record],
      stopped: failed && !retried,
    };
    if (!retried) e++;
    await options.onEpoch?.(progress);
  }
  return progress;
}

/** The clean part of one epoch, shuffled: every row but the excluded ones. */
function cleanBatches(
  data: EpochSource,
  epoch: number,
  excluded: ReadonlySet<string>,
  options: UnlearnOptions,
): Observable<TrainBatch> {
  return data.forEpoch(epoch).pipe(
    map((b) => selectRows(b, (id) => !excluded.has(id))),
    toTrainBatches({
      batchSize: options.batchSize,
      seed: epochSeed(options.seed, epoch),
      augment: options.augment,
      shuffleBuffer: data.cached ? Math.max(1, data.cachedRows) : undefined,
    }),
  );
}

/**
 * Appends isolated rows to each clean batch, cycling through a seeded permutation of them, so that
 * every step ascends on some even when the isolated set is smaller than a batch; and as many anchor
 * rows (trusted rows of the isolated rows' label), descended, so that the step cannot lower the
 * ascended rows' loss by simply predicting their label less everywhere.
 */
function withIsolatedRows(
  isolated: TrainBatch,
  options: UnlearnOptions,
  epoch: number,
): (batch: TrainBatch) => TrainBatch {
  const perBatch = isolatedRowsPerBatch(isolated.ids.length, options.batchSize, options.isolatedPerBatch);
  const draw = cyclicSampler(
    isolated.ids.length,
    mulberry32(deriveSeed(options.seed, `unlearn-isolated-${epoch}`)),
  );
  const anchor = options.anchor && options.anchor.ids.length > 0 ? options.anchor : null;
  const drawAnchor = anchor
    ? cyclicSampler(anchor.ids.length, mulberry32(deriveSeed(options.seed, `unlearn-anchor-${epoch}`)))
    : null;
  return (batch) => {
    const parts = [batch, pickRows(isolated, draw(perBatch))];
    if (anchor && drawAnchor) parts.push(pickRows(anchor, drawAnchor(Math.min(perBatch, anchor.ids.length))));
    return concatBatches(parts);
  };
}

/** Draws `k` distinct indices at a time from 0..n−1, going through seeded permutations in turn. */
function cyclicSampler(n: number, rng: () => number): (k: number) => Set<number> {
  let order = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
  let next = 0;
  return (k) => {
    const picked = new Set<number>();
    while (picked.size < Math.min(k, n)) {
      if (next >= n) {
        order = shuffleInPlace(order, rng);
        next = 0;
      }
      picked.add(order[next++] as number);
    }
    return picked;
  };
}

function pickRows(batch: TrainBatch, rows: ReadonlySet<number>): TrainBatch {
  return selectRows(batch, (_, i) => rows.has(i));
}

/**
 * Isolated rows `joint` unlearning adds to each clean batch: `isolatedPerBatch`, or by default a
 * quarter of the batch size, and never more than there are.
 *
 * @param isolated - how many rows are isolated.
 * @param batchSize - clean rows per batch.
 * @param isolatedPerBatch - the user's setting, if any.
 * @returns the count.
 */
export function isolatedRowsPerBatch(isolated: number, batchSize: number, isolatedPerBatch?: number): number {
  return Math.min(isolated, isolatedPerBatch ?? Math.max(1, Math.ceil(batchSize / 4)));
}

/** The reference code's unlearning loss: minimise −ℓ (plain gradient ascent on the isolated rows). */
const negatedCrossEntropy: Objective = (perExample) => tf.neg(tf.mean(perExample)) as tf.Scalar;

async function meanLoss(
  model: tf.LayersModel,
  batch: TrainBatch,
  scoring: ScoreLossesOptions,
): Promise<number> {
  const records = await scoreBatch(model, batch, scoring);
  return records.reduce((s, r) => s + r.loss, 0) / Math.max(1, records.length);
}

/** Share of a batch's rows the model predicts as `label`. */
async function sharePredictedAs(
  model: tf.LayersModel,
  rows: TrainBatch,
  label: number,
  scoring: ScoreLossesOptions,
): Promise<number> {
  const records = await scoreBatch(model, rows, scoring);
  return records.filter((r) => r.predicted === label).length / records.length;
}
