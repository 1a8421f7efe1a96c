import { UsageError } from '../errors.js';
import type { LossTrajectories } from './lossTrajectories.js';

/**
 * How rows are ranked for isolation, lowest score = most suspicious:
 * - `final-loss`: the loss after the last isolation epoch (the paper and the reference code);
 * - `mean-log-loss`: the mean over isolation epochs of log(loss), which rewards rows that were learned
 *   early and stayed learned (the trajectory, not one snapshot);
 * - `target-class`: `mean-log-loss`, but rows of the class whose lowest scores stand out most from its
 *   own median rank before all others, when that class clearly stands out (see
 *   {@link DEFAULT_MIN_STANDOUT}); otherwise plain `mean-log-loss`. A backdoor is tied to one class, where it makes a cluster of
 *   rows far below the class's clean rows; an easy class (Fashion-MNIST's trousers) is low everywhere,
 *   with no such gap, and no longer pollutes the ranking as it does a global one.
 */
export const SCORE_METHODS = ['target-class', 'mean-log-loss', 'final-loss'] as const;
export type ScoreMethod = (typeof SCORE_METHODS)[number];

/** What {@link scoreRows} computed. */
export interface RowScores {
  readonly method: ScoreMethod;
  /** Each row's score (lower = more suspicious); for `target-class`, the mean log-loss itself. */
  readonly score: Float64Array;
  /** Each row's rank, 0 = most suspicious; ties broken by source order. */
  readonly rank: Int32Array;
  /** Row indices from most to least suspicious. */
  readonly order: Int32Array;
  /** The class ranked first by `target-class`; null for the other methods. */
  readonly rankedClass: number | null;
  /**
   * `target-class`: each class's gap, the median score of its rows minus the mean of its lowest
   * `ceil(isolate / classes)` scores (NaN for a class with fewer rows than that); null otherwise.
   */
  readonly classGaps: readonly number[] | null;
  /**
   * `target-class`: the largest gap divided by the median gap; the class is ranked first only when
   * this reaches `minStandout` (`rankedClass` is null otherwise). Null for other methods.
   */
  readonly targetStandout: number | null;
}

/**
 * How far the suspected class's gap must stand above the median class's before `target-class` ranks
 * it first. On Fashion-MNIST a learned BadNets backdoor stood at 3.1; with no backdoor learned (a blend
 * the isolation epochs had not separated) the largest gap, an ordinary class's, stood at 1.7.
 */
export const DEFAULT_MIN_STANDOUT = 2.5;

/** Losses are clamped here before the log, so a row with a loss of exactly 0 stays finite. */
const LOSS_FLOOR = 1e-12;

/**
 * Scores and ranks every row from its isolation-phase loss trajectory.
 *
 * @example
 * ```ts
 * const scores = scoreRows(trajectories, { method: 'target-class', isolate: 100 });
 * const isolated = scores.order.subarray(0, 100);
 * ```
 * @param trajectories - the per-epoch losses.
 * @param options - the method, how many rows will be isolated (`target-class` measures each class's
 *   low tail over about that many rows) and `target-class`'s standout threshold
 *   (0 always ranks the class with the largest gap first).
 * @returns scores, ranks and the ranking.
 * @throws UsageError for an unknown method or an empty trajectory.
 */
export function scoreRows(
  trajectories: LossTrajectories,
  options: { readonly method: ScoreMethod; readonly isolate: number; readonly minStandout?: number },
): RowScores {
  const { method } = options;
  if (!SCORE_METHODS.includes(method)) {
    throw new UsageError(`unknown isolation score '${String(method)}'; valid: ${SCORE_METHODS.join(', ')}`);
  }
  const epochs = trajectories.losses.length;
  const n = trajectories.ids.length;
  if (epochs === 0 || n === 0) throw new UsageError('no isolation losses to score');
  const score = new Float64Array(n);
  if (method === 'final-loss') {
    score.set(trajectories.losses[epochs - 1] as Float32Array);
  } else {
    for (const epoch of trajectories.losses) {
      for (let i = 0; i < n; i++)
        score[i] = (score[i] as number) + Math.log(Math.max(epoch[i] as number, LOSS_FLOOR));
    }
    for (let i = 0; i < n; i++) score[i] = (score[i] as number) / epochs;
  }
  let order = rankOrder(score, () => 0);
  let rankedClass: number | null = null;
  let classGaps: number[] | null = null;
  let targetStandout: number | null = null;
  if (method === 'target-class') {
    const labels = trajectories.labels;
    classGaps = lowTailGaps(labels, score, options.isolate);
    let best = Number.NEGATIVE_INFINITY;
    let bestLabel: number | null = null;
    classGaps.forEach((gap, label) => {
      if (gap > best) {
        best = gap;
        bestLabel = label;
      }
    });
    const finite = classGaps.filter(Number.isFinite).sort((a, b) => a - b);
    const median = finite[Math.floor((finite.length - 1) / 2)];
    targetStandout = bestLabel !== null && median !== undefined && median > 0 ? best / median : null;
    // Ranking a class first is a strong move (its rows fill the quarantine, unlearning distrusts it):
    // only when its gap clearly stands out; otherwise the global mean-log-loss ranking.
    const minStandout = options.minStandout ?? DEFAULT_MIN_STANDOUT;
    if (
      bestLabel !== null &&
      (minStandout <= 0 || (targetStandout !== null && targetStandout >= minStandout))
    ) {
      rankedClass = bestLabel;
      order = rankOrder(score, (i) => (labels[i] === rankedClass ? 0 : 1));
    }
  }
  const rank = new Int32Array(n);
  order.forEach((row, r) => {
    rank[row] = r;
  });
  return { method, score, rank, order, rankedClass, classGaps, targetStandout };
}

/** Row indices sorted by (group, score, index). */
function rankOrder(score: Float64Array, group: (i: number) => number): Int32Array {
  const order = Int32Array.from(score.keys());
  return order.sort((a, b) => group(a) - group(b) || (score[a] as number) - (score[b] as number) || a - b);
}

/**
 * Per class: median score minus the mean of the class's lowest `ceil(isolate / classes)` scores. The
 * backdoor's target class has a tail of rows far below its clean rows; other classes do not.
 */
function lowTailGaps(labels: Int32Array, score: Float64Array, isolate: number): number[] {
  const byClass: number[][] = [];
  labels.forEach((label, i) => {
    const values = byClass[label] ?? [];
    values.push(score[i] as number);
    byClass[label] = values;
  });
  const classes = byClass.filter((c) => c !== undefined).length;
  const tail = Math.max(1, Math.ceil(isolate / Math.max(1, classes)));
  return Array.from(byClass, (values) => {
    if (!values || values.length < Math.max(tail, 2)) return Number.NaN;
    values.sort((a, b) => a - b);
    const median = values[Math.floor((values.length - 1) / 2)] as number;
    let low = 0;
    for (let i = 0; i < tail; i++) low += values[i] as number;
    return median - low / tail;
  });
}
