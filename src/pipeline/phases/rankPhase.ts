import { detectPoison, ROW_CALLS, TAIL_SHARE } from '../../abl/detectPoison.js';
import { DEFAULT_MIN_STANDOUT, scoreRows } from '../../abl/scoreRows.js';
import { suspectedTarget, targetShare } from '../../abl/suspectedTarget.js';
import type { AuditPhase } from '../auditPhase.js';
import type { IsolationRecord, RankingRecord } from '../auditRecords.js';

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
    const detection = detectPoison(labels, scores.score);
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
      // The strongest flagged class, with its share of the quarantine.
      suspect:
        detection.flagged[0] === undefined ? null : targetShare(labels, isolatedRows, detection.flagged[0]),
      minStandout,
    };
  },
};
