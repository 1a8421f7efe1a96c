import { type Detection, detectPoison, ROW_CALLS } from '../../abl/detectPoison.js';
import { DEFAULT_MIN_STANDOUT, scoreRows } from '../../abl/scoreRows.js';
import { type SuspectedTarget, suspectedTarget } from '../../abl/suspectedTarget.js';
import type { AuditPhase } from '../auditPhase.js';
import type { IsolationRecord, RankingRecord } from '../auditRecords.js';

/** The tail a class's gap is measured over, and the `target-class` score's budget: 1% of the rows. */
const TAIL_SHARE = 0.01;

/**
 * Rank: scores every row from its loss trajectory, judges every class ({@link detectPoison}) and
 * decides each row's partition. By default the quarantine is adaptive: the suspicious mode of each
 * flagged class, with uncertain rows in a review band, and nothing from a class without evidence. An
 * explicit `isolation.ratio` quarantines that fixed share of the ranking instead (no review band); the
 * verdict is the evidence's either way.
 */
export const rankPhase: AuditPhase<IsolationRecord, RankingRecord> = {
  name: 'rank',
  async run({ trajectories }, ctx) {
    const iso = ctx.config.isolation;
    const { labels } = trajectories;
    const n = trajectories.ids.length;
    const budget = Math.min(n, Math.max(1, Math.round((iso.ratio ?? TAIL_SHARE) * n)));
    const minStandout = DEFAULT_MIN_STANDOUT;
    const scores = scoreRows(trajectories, { method: iso.score, isolate: budget, minStandout });
    const classes = new Set(labels).size;
    const detection = detectPoison(labels, scores.score, { tail: Math.ceil((TAIL_SHARE * n) / classes) });
    if (iso.ratio !== null) {
      const calls = Uint8Array.from(scores.rank, (r) =>
        r < budget ? ROW_CALLS.quarantine : ROW_CALLS.clean,
      );
      const isolatedRows = scores.order.subarray(0, budget);
      // With the target-class score, a class is suspected only when its gap stood out; the majority of a
      // global ranking's rows is often just an easy class.
      const suspect =
        scores.method === 'target-class' && scores.rankedClass === null
          ? null
          : suspectedTarget(labels, isolatedRows);
      const split = 'fixed' as const;
      return {
        scores,
        isolatedCount: budget,
        isolatedRows,
        reviewRows: new Int32Array(0),
        calls,
        detection,
        split,
        suspect,
        minStandout,
      };
    }
    const inOrder = (call: number) => scores.order.filter((row) => detection.calls[row] === call);
    const isolatedRows = inOrder(ROW_CALLS.quarantine);
    return {
      scores,
      isolatedCount: isolatedRows.length,
      isolatedRows,
      reviewRows: inOrder(ROW_CALLS.review),
      calls: detection.calls,
      detection,
      split: 'adaptive',
      suspect: flaggedTarget(labels, detection, isolatedRows),
      minStandout,
    };
  },
};

/** The strongest flagged class as the suspected target, with its share of the quarantine. */
function flaggedTarget(
  labels: Int32Array,
  detection: Detection,
  isolatedRows: Int32Array,
): SuspectedTarget | null {
  const label = detection.flagged[0];
  if (label === undefined) return null;
  let inClass = 0;
  for (const row of isolatedRows) if (labels[row] === label) inClass++;
  let classRows = 0;
  for (const l of labels) if (l === label) classRows++;
  const share = isolatedRows.length > 0 ? inClass / isolatedRows.length : 0;
  return { label, share, lift: share / (classRows / labels.length) };
}
