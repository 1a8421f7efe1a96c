import {
  boolData,
  column,
  float32Data,
  float64Data,
  int32Data,
  recordBatchOf,
  utf8Data,
} from '../io/arrowColumns.js';
import { writeParquet } from '../io/writeParquet.js';
import type { LossTrajectories } from './lossTrajectories.js';
import type { RowScores } from './scoreRows.js';

/** Schema metadata key of scores.parquet: the score method and isolated count, as JSON. */
export const SCORES_METADATA_KEY = 'abl_audit.scores';

/**
 * Writes `OUT/scores.parquet`: one row per training row in source order, with `id`, `label`,
 * `loss_epoch_1` … `loss_epoch_E` (the isolation-phase trajectory), `abl_score`, `abl_rank` (0 = most
 * suspicious), `abl_suspicion` (robust standard deviations below the flagged class's clean mode), `abl_isolated`
 * (quarantined) and `abl_review` (in the review band). Atomic, like every output.
 *
 * @param target - the file to write.
 * @param trajectories - ids, labels and per-epoch losses.
 * @param scores - the isolation score and ranks.
 * @param calls - each row's partition (0 clean, 1 review, 2 quarantine) and suspicion.
 * @throws IoError when the file cannot be written.
 */
export async function writeScores(
  target: string,
  trajectories: LossTrajectories,
  scores: RowScores,
  calls: { readonly calls: Uint8Array; readonly suspicion: Float32Array },
): Promise<void> {
  const isolated = calls.calls.reduce((count, call) => count + (call === 2 ? 1 : 0), 0);
  const batch = recordBatchOf(
    [
      column('id', utf8Data(trajectories.ids)),
      column('label', int32Data(trajectories.labels)),
      ...trajectories.losses.map((losses, e) => column(`loss_epoch_${e + 1}`, float32Data(losses))),
      column('abl_score', float64Data(scores.score)),
      column('abl_rank', int32Data(scores.rank)),
      column('abl_suspicion', float32Data(calls.suspicion)),
      column('abl_isolated', boolData(Array.from(calls.calls, (c) => c === 2))),
      column('abl_review', boolData(Array.from(calls.calls, (c) => c === 1))),
    ],
    new Map([
      [
        SCORES_METADATA_KEY,
        JSON.stringify({ method: scores.method, isolated, rankedClass: scores.rankedClass }),
      ],
    ]),
  );
  await writeParquet(target, [batch]);
}
