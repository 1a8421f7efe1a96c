import type { RecordBatch } from 'apache-arrow';
import { boolData, column, float64Data, int32Data, recordBatchOf, utf8Data } from '../io/arrowColumns.js';
import type { DataFile } from '../io/dataFile.js';
import { writeParquet } from '../io/writeParquet.js';
import type { SourceCounts, SourceRollup } from './sourceRollup.js';

/** The source rollup's file in the output folder. */
export const SOURCES_FILE = 'sources.parquet';

/** What a row's source is named by when its source column holds no value. */
export const MISSING_SOURCE = '(no source)';

/** Counts rows per source as the quarantine pass reads them; see {@link createSourceCounter}. */
export interface SourceCounter {
  /** Counts a batch's rows (`indices`: their row indices, whose partition `calls` holds). */
  add(batch: RecordBatch, file: DataFile, indices: readonly number[]): void;
  /** The counts so far, in the order sources were first seen. */
  counts(): SourceCounts[];
}

/** The hive partition key that names a file's source when no source column is given. */
export const SOURCE_PARTITION_KEY = 'source';

/**
 * Counts rows, quarantined and review rows per upstream source: the value of `column` (a
 * `--source-col`) in each row; without one, the file's hive partition `source=…`, else the file (its
 * path relative to the dataset).
 *
 * <span class="informal">A column named `source` inside the files is not taken by itself: imports
 * write one (a dataset name, or each image's path), which would make one source of every delivery, or
 * one of every row.</span>
 *
 * @param column - the source column, or null.
 * @param calls - each row's partition by row index (0 clean, 1 review, 2 quarantine).
 */
export function createSourceCounter(column: string | null, calls: Uint8Array): SourceCounter {
  const bySource = new Map<string, { source: string; rows: number; quarantined: number; review: number }>();
  const entry = (source: string) => {
    let e = bySource.get(source);
    if (!e) {
      e = { source, rows: 0, quarantined: 0, review: 0 };
      bySource.set(source, e);
    }
    return e;
  };
  return {
    add(batch, file, indices) {
      const values = column === null ? null : batch.getChild(column);
      const fromFile = values ? null : entry(file.partition[SOURCE_PARTITION_KEY] ?? file.relPath);
      indices.forEach((row, i) => {
        const value: unknown = values?.get(i);
        const e = fromFile ?? entry(value === null || value === undefined ? MISSING_SOURCE : String(value));
        e.rows++;
        if (calls[row] === 2) e.quarantined++;
        else if (calls[row] === 1) e.review++;
      });
    },
    counts: () => [...bySource.values()].map((e) => ({ ...e })),
  };
}

/**
 * Writes the source rollup as a tidy Parquet table (`OUT/sources.parquet`), one row per source in the
 * rollup's order, for a warehouse to join: `source`, `rows`, `quarantined`, `review`, `data_share`,
 * `quarantine_share`, `quarantine_rate`, `lift`, `standout`.
 *
 * @throws IoError when the file cannot be written (nothing half-written is left).
 */
export async function writeSources(target: string, rollup: SourceRollup): Promise<void> {
  const e = rollup.entries;
  const counts = (['rows', 'quarantined', 'review'] as const).map((key) =>
    column(key, int32Data(Int32Array.from(e, (x) => x[key]))),
  );
  const shares = (
    [
      ['data_share', 'dataShare'],
      ['quarantine_share', 'quarantineShare'],
      ['quarantine_rate', 'quarantineRate'],
      ['lift', 'lift'],
    ] as const
  ).map(([name, key]) => column(name, float64Data(Float64Array.from(e, (x) => x[key]))));
  await writeParquet(target, [
    recordBatchOf([
      column('source', utf8Data(e.map((x) => x.source))),
      ...counts,
      ...shares,
      column('standout', boolData(e.map((x) => x.source === rollup.standout))),
    ]),
  ]);
}
