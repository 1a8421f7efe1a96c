import { DEFAULT_MIN_STANDOUT, scoreRows } from '../../abl/scoreRows.js';
import { suspectedTarget } from '../../abl/suspectedTarget.js';
import type { AuditPhase } from '../auditPhase.js';
import type { IsolationRecord, RankingRecord } from '../auditRecords.js';

/**
 * Rank: scores every row from its loss trajectory, isolates the lowest `isolation.ratio`, and names
 * the class the isolated rows concentrate in as the suspected target, when one stands out.
 */
export const rankPhase: AuditPhase<IsolationRecord, RankingRecord> = {
  name: 'rank',
  async run({ trajectories }, ctx) {
    const iso = ctx.config.isolation;
    const n = trajectories.ids.length;
    const isolatedCount = Math.min(n, Math.max(1, Math.round(iso.ratio * n)));
    const minStandout = DEFAULT_MIN_STANDOUT;
    const scores = scoreRows(trajectories, { method: iso.score, isolate: isolatedCount, minStandout });
    const isolatedRows = scores.order.subarray(0, isolatedCount);
    // With the target-class score, a class is suspected only when its gap stood out; the majority of a
    // global ranking's rows is often just an easy class.
    const suspect =
      scores.method === 'target-class' && scores.rankedClass === null
        ? null
        : suspectedTarget(trajectories.labels, isolatedRows);
    return { scores, isolatedCount, isolatedRows, suspect, minStandout };
  },
};
