import {
  Bool,
  type Data,
  Field,
  Float32,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { writeParquet } from '../io/writeParquet.js';
import type { LossTrajectories } from './lossTrajectories.js';
import type { RowScores } from './scoreRows.js';

/** Schema metadata key of scores.parquet: the score method and isolated count, as JSON. */
export const SCORES_METADATA_KEY = 'abl_audit.scores';

/**
 * Writes `OUT/scores.parquet`: one row per training row in source order, with `id`, `label`,
 * `loss_epoch_1` … `loss_epoch_E` (the isolation-phase trajectory), `abl_score`, `abl_rank` (0 = most
 * suspicious) and `abl_isolated`. Atomic, like every output.
 *
 * @param target - the file to write.
 * @param trajectories - ids, labels and per-epoch losses.
 * @param scores - the isolation score and ranks.
 * @param isolated - rows with `rank < isolated` are the isolated ones.
 * @throws IoError when the file cannot be written.
 */
export async function writeScores(
  target: string,
  trajectories: LossTrajectories,
  scores: RowScores,
  isolated: number,
): Promise<void> {
  const n = trajectories.ids.length;
  const columns: [string, Data][] = [
    ['id', vectorFromArray(trajectories.ids, new Utf8()).data[0] as Data],
    ['label', numeric(new Int32(), trajectories.labels)],
  ];
  trajectories.losses.forEach((losses, e) => {
    columns.push([`loss_epoch_${e + 1}`, numeric(new Float32(), losses)]);
  });
  columns.push(['abl_score', numeric(new Float64(), scores.score)]);
  columns.push(['abl_rank', numeric(new Int32(), scores.rank)]);
  columns.push([
    'abl_isolated',
    vectorFromArray(
      Array.from(scores.rank, (r) => r < isolated),
      new Bool(),
    ).data[0] as Data,
  ]);
  const fields = columns.map(([name, data]) => new Field(name, data.type, false));
  const metadata = new Map([
    [
      SCORES_METADATA_KEY,
      JSON.stringify({ method: scores.method, isolated, rankedClass: scores.rankedClass }),
    ],
  ]);
  const schema = new Schema(fields, metadata);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: n, nullCount: 0, children: columns.map(([, d]) => d) }),
  );
  await writeParquet(target, [batch]);
}

function numeric(type: Int32 | Float32 | Float64, values: Int32Array | Float32Array | Float64Array): Data {
  return makeData({ type, length: values.length, nullCount: 0, data: values } as never) as Data;
}
