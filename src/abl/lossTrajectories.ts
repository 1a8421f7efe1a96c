import { DataError, ErrorCode } from '../errors.js';
import type { LossRecord } from '../train/types.js';

/**
 * Every row's loss after each isolation epoch, in source order: the trajectory ABL's isolation score
 * is computed from. Column-oriented (one Float32Array per epoch) so 1M rows × 20 epochs is 80 MB, not
 * 20M objects.
 */
export interface LossTrajectories {
  /** Row ids in source order. */
  readonly ids: readonly string[];
  /** Each row's label, index = row. */
  readonly labels: Int32Array;
  /** `losses[e][i]`: row i's cross-entropy (inference mode) after isolation epoch e + 1. */
  readonly losses: readonly Float32Array[];
}

/**
 * Adds one epoch's losses to the trajectories: the first epoch fixes the row order, later epochs must
 * list the same ids in the same order (the scoring pass reads the source the same way every time).
 *
 * @param previous - the trajectories so far, or null before the first epoch.
 * @param records - one scoring pass, in source order.
 * @returns new trajectories with one more epoch.
 * @throws DataError when a pass has no rows or its rows differ from the first pass's.
 */
export function appendEpochLosses(
  previous: LossTrajectories | null,
  records: readonly LossRecord[],
): LossTrajectories {
  if (records.length === 0) throw new DataError(ErrorCode.EmptyDataset, 'the scoring pass saw no rows');
  const losses = Float32Array.from(records, (r) => r.loss);
  if (previous === null) {
    return {
      ids: records.map((r) => r.id),
      labels: Int32Array.from(records, (r) => r.label),
      losses: [losses],
    };
  }
  if (previous.ids.length !== records.length) {
    throw new DataError(
      ErrorCode.SchemaMismatch,
      `the dataset changed during the audit: ${previous.ids.length} rows in the first scoring pass, ${records.length} now`,
    );
  }
  records.forEach((r, i) => {
    if (r.id !== previous.ids[i]) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `the dataset changed during the audit: row ${i} was '${previous.ids[i]}' in the first scoring pass and is '${r.id}' now`,
        { location: { row: i } },
      );
    }
  });
  return { ...previous, losses: [...previous.losses, losses] };
}
