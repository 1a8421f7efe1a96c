import type * as tf from '@tensorflow/tfjs';
import { DataError, ErrorCode } from '../errors.js';
import { type ScoreLossesOptions, scoreBatch } from '../train/scoreLosses.js';
import type { TrainBatch } from '../train/types.js';
import { deriveSeed, mulberry32, sampleWithoutReplacement } from '../util/random.js';
import type { LossTrajectories } from './lossTrajectories.js';
import { findTriggerPattern, patternDistances } from './triggerPattern.js';
import {
  backdoorProbeGuard,
  heldOutAccuracyGuard,
  targetClassGuard,
  type UnlearnGuard,
} from './unlearnGuards.js';

/** Which rows unlearning trusts, distrusts and watches: the parameters of that policy. */
export interface UnlearningPolicy {
  /** Share of the non-isolated rows held out for the accuracy guard (at most 2,000 rows). */
  readonly holdoutFraction: number;
  /** Rows of the suspected class scored at or below this quantile of their class are distrusted. */
  readonly distrustTargetQuantile: number;
  /** Distrust the suspected class's rows that carry the isolated rows' shared pixel pattern. */
  readonly triggerFilter: boolean;
  /** After each epoch, distrust trusted rows of the suspected class whose loss exceeds this (null: off). */
  readonly distrustLoss: number | null;
  readonly maxAccuracyDrop: number;
  readonly maxTargetClassDrop: number | null;
  readonly maxProbeRise: number | null;
  /** The run's seed (the held-out sample derives from it). */
  readonly seed: number;
}

/** What the isolation concluded, as the policy needs it. */
export interface IsolationVerdict {
  readonly trajectories: Pick<LossTrajectories, 'ids' | 'labels'>;
  /** Each row's score, lower = more suspicious. */
  readonly score: Float64Array;
  /** Indices of the isolated rows. */
  readonly isolatedRows: ArrayLike<number>;
  /** Indices of the review band's rows: never trained on as clean, watched by the probe. */
  readonly reviewRows?: ArrayLike<number>;
  /** The suspected target class, or null when none stood out. */
  readonly suspect: number | null;
  /**
   * Which end of the suspect's scores the poison sits at: `low` (learned fast, the default) or `high`
   * (not learned yet); the distrusted share is taken from that end.
   */
  readonly suspectSide?: 'low' | 'high';
}

/** Gathers the rows `keep` accepts (by row index) into one batch, from the training data. */
export type RowGatherer = (keep: (row: number) => boolean) => Promise<TrainBatch>;

/** The rows and guards unlearning runs with; see {@link planUnlearning}. */
export interface UnlearningPlan {
  /** The isolated rows, ascended on when `ascend`. */
  readonly isolated: TrainBatch;
  /** Ids never trained on as clean: isolated, held-out and distrusted rows. */
  readonly excluded: ReadonlySet<string>;
  /** The suspected class's rows still trusted as clean (null without a suspect). */
  readonly anchor: TrainBatch | null;
  /** Held-out clean rows the accuracy guard measures. */
  readonly guardRows: TrainBatch;
  /** Distrusted rows the backdoor probe watches (empty without a suspect). */
  readonly probeRows: TrainBatch;
  readonly guards: readonly UnlearnGuard[];
  /** Whether to ascend on the isolated rows: only when a target stood out. */
  readonly ascend: boolean;
  /** The shared pixel pattern found in the isolated rows, and how many more rows carry it. */
  readonly trigger: { readonly pixels: number; readonly threshold: number; readonly rows: number } | null;
  /** After each epoch: trusted rows of the suspected class the model no longer believes (null: off). */
  readonly distrust: ((model: tf.LayersModel) => Promise<string[]>) | null;
}

/**
 * ABL's unlearning policy: which rows are trained on as clean, which are distrusted (never trained
 * on, watched by the probe), which are held out for the guards, and which guards watch.
 *
 * <span class="informal">With a 1% budget at 10% poisoning most of the poison stays outside the
 * isolated set; training on it teaches the backdoor again. So, when a target class stood out, its more
 * suspicious rows (at or below `distrustTargetQuantile` of its scores) and its rows carrying the
 * isolated rows' pixel pattern are distrusted, its remaining rows anchor each step, and three guards
 * watch held-out accuracy, the class's own rows and a backdoor probe. Without a target the isolated
 * rows are only left out.</span>
 *
 * @example
 * ```ts
 * const plan = await planUnlearning(verdict, policy, (keep) => gatherRows(data, keep), { source });
 * await unlearn(model, optimizer, data, { rows: plan, guards: plan.guards, ... });
 * ```
 * @param verdict - the isolation's scores, isolated rows and suspect.
 * @param policy - the policy's parameters.
 * @param gather - reads the chosen rows' pixels from the training data.
 * @param context - the data's name (for errors) and how guards and distrust score rows.
 * @returns the plan.
 * @throws DataError when no held-out clean row is left for the accuracy guard.
 */
export async function planUnlearning(
  verdict: IsolationVerdict,
  policy: UnlearningPolicy,
  gather: RowGatherer,
  context: { readonly source: string; readonly scoring?: ScoreLossesOptions },
): Promise<UnlearningPlan> {
  const { trajectories: traj, suspect } = verdict;
  const ids = traj.ids;
  const n = ids.length;
  const isolatedIndex = new Set(Array.from(verdict.isolatedRows));
  const isolated = await gather((i) => isolatedIndex.has(i));
  const distrusted = distrustedRows(
    traj.labels,
    verdict.score,
    suspect,
    policy.distrustTargetQuantile,
    verdict.suspectSide ?? 'low',
  );
  const trigger =
    suspect !== null && policy.triggerFilter
      ? await triggerCarriers(isolated, suspect, traj, isolatedIndex, gather)
      : null;
  for (const i of trigger?.carriers ?? []) distrusted.add(i);
  for (const i of Array.from(verdict.reviewRows ?? [])) distrusted.add(i);
  const holdout = holdoutRows(n, isolatedIndex, policy.holdoutFraction, policy.seed);
  const guardRows = await gather((i) => holdout.has(i) && !distrusted.has(i));
  if (guardRows.ids.length === 0) {
    throw new DataError(
      ErrorCode.EmptyDataset,
      `the training data is too small for the accuracy guard (${n} rows leave no held-out clean row); audit at least a few hundred rows`,
      { location: { file: context.source } },
    );
  }
  const probeRows = await gather((i) => distrusted.has(i));
  const excluded = new Set<string>();
  for (const set of [isolatedIndex, holdout, distrusted]) for (const i of set) excluded.add(ids[i] as string);
  const anchor =
    suspect === null
      ? null
      : await gather((i) => traj.labels[i] === suspect && !excluded.has(ids[i] as string));
  return {
    isolated,
    excluded,
    anchor,
    guardRows,
    probeRows,
    guards: guardsFor(policy, suspect, guardRows, anchor, probeRows),
    ascend: suspect !== null,
    trigger: trigger && { pixels: trigger.pixels, threshold: trigger.threshold, rows: trigger.carriers.size },
    distrust:
      anchor && policy.distrustLoss !== null
        ? distrustByLoss(anchor, policy.distrustLoss, context.scoring)
        : null,
  };
}

/** The guards: held-out accuracy always; with a suspect, its own rows and the backdoor probe. */
function guardsFor(
  policy: UnlearningPolicy,
  suspect: number | null,
  guardRows: TrainBatch,
  anchor: TrainBatch | null,
  probeRows: TrainBatch,
): UnlearnGuard[] {
  const guards = [heldOutAccuracyGuard(guardRows, policy.maxAccuracyDrop)];
  if (suspect !== null && anchor && anchor.ids.length > 0 && policy.maxTargetClassDrop !== null) {
    guards.push(targetClassGuard(anchor, suspect, policy.maxTargetClassDrop));
  }
  if (suspect !== null && probeRows.ids.length > 0 && policy.maxProbeRise !== null) {
    guards.push(backdoorProbeGuard(probeRows, suspect, policy.maxProbeRise));
  }
  return guards;
}

/**
 * Rows of the suspected class that carry the isolated rows' shared pixel pattern (a patch trigger):
 * poison the budget did not isolate. Null when the isolated rows share no pattern.
 */
async function triggerCarriers(
  isolated: TrainBatch,
  suspect: number,
  traj: IsolationVerdict['trajectories'],
  isolatedIndex: ReadonlySet<number>,
  gather: RowGatherer,
): Promise<{ pixels: number; threshold: number; carriers: Set<number> } | null> {
  const { labels } = traj;
  // Other classes are free of an all-to-one attack's poison; a sample of about 5,000 is enough.
  const stride = Math.max(1, Math.floor(labels.length / 5000));
  const pattern = findTriggerPattern(
    isolated,
    await gather((i) => labels[i] !== suspect && i % stride === 0),
  );
  if (!pattern) return null;
  const candidates = await gather((i) => labels[i] === suspect && !isolatedIndex.has(i));
  const index = new Map(traj.ids.map((id, i) => [id, i]));
  const carriers = new Set<number>();
  patternDistances(pattern, candidates).forEach((d, r) => {
    if (d <= pattern.threshold) carriers.add(index.get(candidates.ids[r] as string) as number);
  });
  return { pixels: pattern.pixels.length, threshold: pattern.threshold, carriers };
}

/**
 * Rows of the suspected target class scored at or below `quantile` of that class's scores (or, for
 * poison on the `high` side, at or above `1 − quantile`).
 *
 * @param labels - every row's label.
 * @param score - every row's score (lower = learned faster).
 * @param target - the suspected class (null: none).
 * @param quantile - share of the class to distrust.
 * @param side - the end of the class's scores the poison sits at.
 * @returns the row indices.
 */
export function distrustedRows(
  labels: Int32Array,
  score: Float64Array,
  target: number | null,
  quantile: number,
  side: 'low' | 'high' = 'low',
): Set<number> {
  const out = new Set<number>();
  if (target === null || quantile <= 0) return out;
  const rows: number[] = [];
  labels.forEach((l, i) => {
    if (l === target) rows.push(i);
  });
  const sign = side === 'low' ? 1 : -1;
  rows.sort((a, b) => sign * ((score[a] as number) - (score[b] as number)) || a - b);
  const cut = Math.floor(rows.length * Math.min(1, quantile));
  for (let r = 0; r < cut; r++) out.add(rows[r] as number);
  return out;
}

/**
 * A seeded sample of the non-isolated rows held out for the accuracy guard.
 *
 * @param n - rows in all.
 * @param isolated - indices of the isolated rows.
 * @param fraction - share of the rest to hold out (at most 2,000 rows, at least 1).
 * @param seed - the run's seed.
 * @returns the row indices.
 */
export function holdoutRows(
  n: number,
  isolated: ReadonlySet<number>,
  fraction: number,
  seed: number,
): Set<number> {
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (!isolated.has(i)) candidates.push(i);
  const size = Math.min(candidates.length, 2000, Math.max(1, Math.round(candidates.length * fraction)));
  const rng = mulberry32(deriveSeed(seed, 'holdout'));
  return new Set(sampleWithoutReplacement(candidates, size, rng));
}

/** Ids of the rows whose loss under the model is above `threshold`. */
function distrustByLoss(
  rows: TrainBatch,
  threshold: number,
  scoring: ScoreLossesOptions | undefined,
): (model: tf.LayersModel) => Promise<string[]> {
  return async (model) => {
    const records = await scoreBatch(model, rows, scoring);
    return records.filter((r) => r.loss > threshold).map((r) => r.id);
  };
}
