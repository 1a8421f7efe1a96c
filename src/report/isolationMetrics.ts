/** How well the isolated rows match the truly poisoned ones. */
export interface IsolationMetrics {
  /** Rows the input marks as poisoned. */
  readonly poisoned: number;
  readonly isolated: number;
  /** Isolated rows that are poisoned. */
  readonly truePositives: number;
  /** `truePositives / isolated`. */
  readonly precision: number;
  /** `truePositives / poisoned`; null when nothing is poisoned. */
  readonly recall: number | null;
  /**
   * Area under the ROC curve of the ranking as a poison detector (1 = every poisoned row ranked before
   * every clean one, 0.5 = chance); null when either class is empty.
   */
  readonly auroc: number | null;
  /** The best precision any selection of `isolated` rows could have: `min(1, poisoned / isolated)`. */
  readonly maxPrecision: number;
}

/**
 * Scores an isolation against ground truth (the `poisoned` column of a benchmark set). Only for
 * measuring: the audit never reads ground truth to decide.
 *
 * @example
 * ```ts
 * isolationMetrics(rank, poisoned, 100); // { precision: 0.99, recall: 0.11, auroc: 0.98, ... }
 * ```
 * @param rank - each row's rank, 0 = most suspicious (a permutation of 0..n−1).
 * @param poisoned - each row's truth, same order.
 * @param isolated - how many top-ranked rows were isolated, or which rows were (by row index).
 * @returns precision, recall and AUROC.
 */
export function isolationMetrics(
  rank: Int32Array,
  poisoned: ArrayLike<boolean>,
  isolated: number | ((row: number) => boolean),
): IsolationMetrics {
  const n = rank.length;
  const isIsolated = typeof isolated === 'number' ? (i: number) => (rank[i] as number) < isolated : isolated;
  let isolatedRows = 0;
  for (let i = 0; i < n; i++) if (isIsolated(i)) isolatedRows++;
  let positives = 0;
  let truePositives = 0;
  // Mann-Whitney: AUROC = P(a poisoned row ranks before a clean one).
  let positiveScoreSum = 0;
  for (let i = 0; i < n; i++) {
    if (!poisoned[i]) continue;
    positives++;
    const r = rank[i] as number;
    if (isIsolated(i)) truePositives++;
    positiveScoreSum += n - 1 - r;
  }
  const negatives = n - positives;
  const auroc =
    positives > 0 && negatives > 0
      ? (positiveScoreSum - (positives * (positives - 1)) / 2) / (positives * negatives)
      : null;
  return {
    poisoned: positives,
    isolated: isolatedRows,
    truePositives,
    precision: isolatedRows > 0 ? truePositives / isolatedRows : 0,
    recall: positives > 0 ? truePositives / positives : null,
    auroc,
    maxPrecision: isolatedRows > 0 ? Math.min(1, positives / isolatedRows) : 0,
  };
}
