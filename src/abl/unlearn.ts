import * as tf from '@tensorflow/tfjs';
import { map, type Observable, of } from 'rxjs';
import { ErrorCode, TrainError, UsageError } from '../errors.js';
import { type EpochSource, epochSeed } from '../train/batches/epochs.js';
import { concatBatches, selectRows } from '../train/batches/selectRows.js';
import { toTrainBatches } from '../train/batches/toTrainBatches.js';
import { crossEntropyObjective, type Objective } from '../train/losses.js';
import type { TrainOptimizer } from '../train/optim.js';
import { type ScoreLossesOptions, scoreBatch } from '../train/scoreLosses.js';
import { trainEpoch } from '../train/trainEpoch.js';
import type { TrainBatch } from '../train/types.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../util/random.js';
import { type FlatUnlearnOptions, fromFlatOptions } from './flatUnlearnOptions.js';
import { ggaObjective } from './ggaObjective.js';
import { restoreOptimizer, snapshotOptimizer } from './trainingState.js';
import type { UnlearnGuard } from './unlearnGuards.js';
import type {
  GuardMeasure,
  GuardState,
  JointSchedule,
  UnlearnEpochRecord,
  UnlearnOptions,
  UnlearnProgress,
  UnlearnRows,
  UnlearnSchedule,
  UnlearnTraining,
} from './unlearnTypes.js';

export type { AccuracyGuard, FlatUnlearnOptions } from './flatUnlearnOptions.js';
export { guardTolerance } from './unlearnGuards.js';
export { REMOVAL_MODES, type RemovalMode, UNLEARN_MODES, type UnlearnMode } from './unlearnModes.js';
export type {
  GuardMeasure,
  GuardState,
  JointSchedule,
  ReferenceSchedule,
  UnlearnEpochRecord,
  UnlearnOptions,
  UnlearnProgress,
  UnlearnRows,
  UnlearnSchedule,
  UnlearnTraining,
} from './unlearnTypes.js';

/** Default of {@link UnlearnOptions.retries}. */
export const DEFAULT_GUARD_RETRIES = 2;

/**
 * ABL's second stage: turns the isolation model into the cleaned model by unlearning the isolated rows
 * while (jointly, or first) learning the rest, under a list of guards.
 *
 * <span class="informal">After every epoch each guard measures its share; when one is violated, the
 * epoch's weights and optimizer state are thrown away and the epoch is tried again at half the
 * learning rate (`retries` times at most), then unlearning stops on the last epoch that passed. An
 * epoch whose loss becomes NaN or infinite is treated the same way. Ascent that destroys the model is
 * the known failure of unlearning with a too-high learning rate.</span>
 *
 * ```text
 * epoch:   train ─► measure guards ─► pass: keep, distrust more rows, next epoch
 *                                  └► fail: roll back ─► retry at lr/2, or stop
 * ```
 *
 * @example
 * ```ts
 * const progress = await unlearn(model, optimizer, data, {
 *   schedule: { mode: 'joint', epochs: 4, learningRate: 0.005 },
 *   rows: { isolated, excluded },
 *   guards: [heldOutAccuracyGuard(heldOut, 0.03)],
 *   training: { batchSize: 64, seed: 1, firstEpoch: 2, augment: false },
 * });
 * ```
 * @see unlearnGuards
 * @param model - the model after isolation (its weights change).
 * @param optimizer - the optimizer to continue with.
 * @param data - the training rows, one pass per epoch.
 * @param options - schedule, rows, guards, training settings and hooks (or the deprecated flat
 *   {@link FlatUnlearnOptions}).
 * @returns the final progress record (history, whether the guards stopped it).
 * @throws UsageError for a bad epoch count or an empty isolated set to ascend on.
 */
export async function unlearn(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  data: EpochSource,
  options: UnlearnOptions | FlatUnlearnOptions,
): Promise<UnlearnProgress> {
  const opts = 'schedule' in options ? options : fromFlatOptions(options);
  const total = scheduleEpochs(opts.schedule);
  // Without isolated rows joint training without ascent still runs (nothing was found to unlearn).
  const ascends = opts.schedule.mode === 'reference' || opts.schedule.ascend !== false;
  if (opts.rows.isolated.ids.length === 0 && ascends) {
    throw new UsageError('there are no isolated rows to unlearn');
  }
  const scoring = { parallel: opts.training.parallel };
  let progress = opts.resumeFrom ?? (await startProgress(model, opts.guards, scoring));
  const excluded = new Set([...opts.rows.excluded, ...progress.distrusted]);
  const maxRetries = opts.retries ?? DEFAULT_GUARD_RETRIES;
  while (progress.epochsDone < total && !progress.stopped) {
    const e = progress.epochsDone;
    const plan = epochPlan(e, progress.learningRateScale, opts, data, excluded);
    const snapshot = model.getWeights().map((w) => w.clone());
    const optimizerSnapshot = await snapshotOptimizer(optimizer);
    let meanObjective: number | null | 'not-finite';
    try {
      meanObjective = await trainPlannedEpoch(model, optimizer, plan, opts, e);
    } catch (err) {
      tf.dispose([...snapshot, ...optimizerSnapshot.map((s) => s.tensor)]);
      throw err;
    }
    const lossNotFinite = meanObjective === 'not-finite';
    // A blown-up epoch is undone before measuring, so its record shows the model unlearning goes on from.
    if (lossNotFinite) await restore(model, optimizer, snapshot, optimizerSnapshot);
    const warmup = e < (opts.warmupEpochs ?? 0);
    const measures = await measureGuards(model, opts.guards, progress, scoring, lossNotFinite || warmup);
    const failed = lossNotFinite || measures.some((m) => m.violated);
    if (failed && !lossNotFinite) await restore(model, optimizer, snapshot, optimizerSnapshot);
    tf.dispose([...snapshot, ...optimizerSnapshot.map((s) => s.tensor)]);
    const retried = failed && progress.retries < maxRetries;
    const newlyDistrusted =
      failed || !opts.distrust ? [] : (await opts.distrust(model)).filter((id) => !excluded.has(id));
    for (const id of newlyDistrusted) excluded.add(id);
    const record: UnlearnEpochRecord = {
      epoch: e + 1,
      phase: plan.phase,
      learningRate: plan.learningRate,
      meanObjective: meanObjective === 'not-finite' ? null : meanObjective,
      measures,
      isolatedLoss: await meanLoss(model, opts.rows.isolated, scoring),
      rolledBack: failed,
      retried,
      newlyDistrusted: newlyDistrusted.length,
      stopReason: stopReason(lossNotFinite, measures, opts.guards),
    };
    progress = nextProgress(progress, record, opts.guards, newlyDistrusted, warmup);
    await opts.onEpoch?.(progress);
  }
  return progress;
}

async function restore(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  weights: tf.Tensor[],
  optimizerState: Awaited<ReturnType<typeof snapshotOptimizer>>,
): Promise<void> {
  model.setWeights(weights);
  await restoreOptimizer(optimizer, optimizerState);
}

/** Epochs a schedule runs in all. */
function scheduleEpochs(schedule: UnlearnSchedule): number {
  const epochs = schedule.mode === 'joint' ? schedule.epochs : schedule.fineTuneEpochs;
  const total = schedule.mode === 'joint' ? epochs : epochs + schedule.unlearnEpochs;
  if (!(Number.isInteger(epochs) && epochs >= 0 && total >= 1)) {
    throw new UsageError(`unlearning needs at least one epoch, got ${epochs}`);
  }
  return total;
}

/** Every guard measured before the first epoch: its initial value and first reference. */
async function startProgress(
  model: tf.LayersModel,
  guards: readonly UnlearnGuard[],
  scoring: ScoreLossesOptions,
): Promise<UnlearnProgress> {
  const states: GuardState[] = [];
  for (const guard of guards) {
    const value = await guard.measure(model, scoring);
    states.push({ name: guard.name, initial: value, reference: value });
  }
  return {
    epochsDone: 0,
    guards: states,
    history: [],
    stopped: false,
    distrusted: [],
    learningRateScale: 1,
    retries: 0,
  };
}

/** What one epoch trains on, how, and at what rate. */
interface EpochPlan {
  readonly phase: UnlearnEpochRecord['phase'];
  readonly learningRate: number;
  /** Null for the reference's evaluation-only epoch. */
  readonly objective: Objective | null;
  readonly batches$: Observable<TrainBatch>;
}

function epochPlan(
  e: number,
  scale: number,
  options: UnlearnOptions,
  data: EpochSource,
  excluded: ReadonlySet<string>,
): EpochPlan {
  const { schedule, rows, training } = options;
  const epochNumber = training.firstEpoch + e;
  if (schedule.mode === 'joint' || e < schedule.fineTuneEpochs) {
    const ascend = schedule.mode === 'joint' && schedule.ascend !== false;
    const clean$ = cleanBatches(data, epochNumber, excluded, training);
    const base = schedule.lrSchedule?.(e, schedule.learningRate) ?? schedule.learningRate;
    return {
      phase: schedule.mode === 'joint' ? 'joint' : 'fine-tune',
      learningRate: base * scale,
      objective: ascend ? ggaObjective(new Set(rows.isolated.ids)) : crossEntropyObjective,
      batches$:
        schedule.mode === 'joint' && ascend
          ? clean$.pipe(map(withIsolatedRows(rows, schedule, training, epochNumber)))
          : clean$,
    };
  }
  const evaluateOnly = e === schedule.fineTuneEpochs;
  return {
    phase: evaluateOnly ? 'evaluate' : 'unlearn',
    learningRate: schedule.unlearnLearningRate * scale,
    objective: evaluateOnly ? null : negatedCrossEntropy,
    batches$: of(rows.isolated).pipe(
      toTrainBatches({ batchSize: training.batchSize, seed: epochSeed(training.seed, epochNumber) }),
    ),
  };
}

/**
 * Trains one planned epoch: its mean objective, null when it only evaluates, or `not-finite` when the
 * loss became NaN or infinite (ascent that blew up, rolled back and retried like a guard's failure,
 * not the end of the audit).
 */
async function trainPlannedEpoch(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  plan: EpochPlan,
  options: UnlearnOptions,
  e: number,
): Promise<number | null | 'not-finite'> {
  if (!plan.objective) return null;
  try {
    const result = await trainEpoch(model, plan.batches$, {
      optimizer,
      objective: plan.objective,
      learningRate: plan.learningRate,
      parallel: options.training.parallel,
      onStep: (step) => options.onStep?.(e, step),
    });
    return result.meanLoss;
  } catch (err) {
    if (err instanceof TrainError && err.code === ErrorCode.LossNotFinite) return 'not-finite';
    throw err;
  }
}

/**
 * Each guard's measure and verdict against its reference (none is violated when the loss blew up or
 * the epoch is a warm-up).
 */
async function measureGuards(
  model: tf.LayersModel,
  guards: readonly UnlearnGuard[],
  progress: UnlearnProgress,
  scoring: ScoreLossesOptions,
  unjudged: boolean,
): Promise<GuardMeasure[]> {
  const measures: GuardMeasure[] = [];
  for (const [i, guard] of guards.entries()) {
    const value = await guard.measure(model, scoring);
    const reference = progress.guards[i]?.reference ?? value;
    const { violated, tolerance } = guard.judge(reference, value);
    measures.push({ name: guard.name, value, tolerance, violated: violated && !unjudged });
  }
  return measures;
}

function stopReason(
  lossNotFinite: boolean,
  measures: readonly GuardMeasure[],
  guards: readonly UnlearnGuard[],
): string | null {
  if (lossNotFinite) return 'loss-not-finite';
  const first = measures.findIndex((m) => m.violated);
  return first < 0 ? null : (guards[first]?.reason ?? 'guard');
}

/**
 * The progress after an epoch: references advance only on an epoch that passed; a warm-up epoch's
 * measures replace them.
 */
function nextProgress(
  progress: UnlearnProgress,
  record: UnlearnEpochRecord,
  guards: readonly UnlearnGuard[],
  newlyDistrusted: readonly string[],
  warmup: boolean,
): UnlearnProgress {
  const failed = record.rolledBack;
  return {
    ...progress,
    distrusted: [...progress.distrusted, ...newlyDistrusted],
    epochsDone: record.retried ? progress.epochsDone : record.epoch,
    learningRateScale: record.retried ? progress.learningRateScale / 2 : progress.learningRateScale,
    retries: progress.retries + (record.retried ? 1 : 0),
    guards: progress.guards.map((state, i) => {
      const measure = record.measures[i];
      const guard = guards[i];
      if (failed || !measure || !guard) return state;
      if (warmup) return { ...state, reference: measure.value };
      return { ...state, reference: guard.advance(state.reference, measure.value) };
    }),
    history: [...progress.history, record],
    stopped: failed && !record.retried,
  };
}

/** The clean part of one epoch, shuffled: every row but the excluded ones. */
function cleanBatches(
  data: EpochSource,
  epoch: number,
  excluded: ReadonlySet<string>,
  training: UnlearnTraining,
): Observable<TrainBatch> {
  return data.forEpoch(epoch).pipe(
    map((b) => selectRows(b, (id) => !excluded.has(id))),
    toTrainBatches({
      batchSize: training.batchSize,
      seed: epochSeed(training.seed, epoch),
      augment: training.augment,
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
  rows: UnlearnRows,
  schedule: JointSchedule,
  training: UnlearnTraining,
  epoch: number,
): (batch: TrainBatch) => TrainBatch {
  const { isolated } = rows;
  const perBatch = isolatedRowsPerBatch(isolated.ids.length, training.batchSize, schedule.isolatedPerBatch);
  const draw = cyclicSampler(
    isolated.ids.length,
    mulberry32(deriveSeed(training.seed, `unlearn-isolated-${epoch}`)),
  );
  const anchor = rows.anchor && rows.anchor.ids.length > 0 ? rows.anchor : null;
  const drawAnchor = anchor
    ? cyclicSampler(anchor.ids.length, mulberry32(deriveSeed(training.seed, `unlearn-anchor-${epoch}`)))
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
