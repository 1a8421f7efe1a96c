import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Data,
  Field,
  Float32,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
} from 'apache-arrow';
import { createExampleDecoder } from '../data/decodeExamples.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import { DataError, describeError, ErrorCode, IoError } from '../errors.js';
import { temporaryPathFor } from '../io/atomicWrite.js';
import { openParquetWriter, type ParquetWriter } from '../io/openParquetWriter.js';
import { iterateDataset } from '../io/readDataset.js';

/** Columns the audit adds to every row of the quarantine and clean partitions. */
export const ABL_COLUMNS = ['abl_loss', 'abl_score', 'abl_rank'] as const;

/** The two partitions an audit writes. */
export const PARTITIONS = ['quarantine', 'clean'] as const;
export type Partition = (typeof PARTITIONS)[number];

/** What the second pass needs to know about every row. */
export interface RowVerdicts {
  /** Row index (in the first pass's source order) of each id. */
  readonly index: ReadonlyMap<string, number>;
  /** Loss after the last isolation epoch. */
  readonly loss: Float32Array;
  readonly score: Float64Array;
  /** 0 = most suspicious. */
  readonly rank: Int32Array;
  /** Rows with `rank < isolated` are quarantined. */
  readonly isolated: number;
}

/** Options of {@link writeQuarantine}. */
export interface WriteQuarantineOptions extends ColumnOverrides {
  /** Called with rows done so far. */
  readonly onProgress?: (rows: number) => void;
}

/** What {@link writeQuarantine} wrote. */
export interface QuarantineSummary {
  readonly rows: number;
  readonly quarantined: number;
  readonly clean: number;
  /** Part files written, relative to the output folder, per partition. */
  readonly files: Readonly<Record<Partition, readonly string[]>>;
  /** Rows and quarantined rows of each source file, in reading order. */
  readonly perSource: readonly {
    readonly file: string;
    readonly rows: number;
    readonly quarantined: number;
  }[];
  /**
   * The ground-truth `poisoned` column by row index (1 = poisoned), read on the way for scoring the
   * isolation; null when the data has no such boolean column. Never used to decide anything.
   */
  readonly groundTruth: Uint8Array | null;
}

/** The ground-truth column benchmark sets carry (see `abl-audit poison`). */
export const GROUND_TRUTH_COLUMN = 'poisoned';

/**
 * The quarantine stage's second pass: reads the training data again and writes every row, unchanged
 * and with every original column, to `OUT/quarantine/` (the isolated rows) or `OUT/clean/` (the rest),
 * one Parquet part per source file (`part-00000.parquet` for the first file read), each row gaining
 * `abl_loss`, `abl_score` and `abl_rank`.
 *
 * <span class="informal">Pulls one batch at a time and awaits each write, so memory holds one batch
 * whatever the data's size. Both folders are built under temporary names and renamed into place only
 * when the pass completes, replacing earlier ones: a failed pass leaves no partition half-written.
 * Every row must be one the first pass scored, and every scored row must appear once, or the pass
 * fails (the data changed under the audit).</span>
 *
 * @param input - the training data (as given to the audit).
 * @param out - the audit's output folder.
 * @param verdicts - ids, scores, ranks and the isolated count from the isolation stage.
 * @param options - column overrides (as used to decode the data) and a progress callback.
 * @returns counts and file names.
 * @throws DataError when the data differs from the first pass; IoError when a part cannot be written.
 */
export async function writeQuarantine(
  input: string,
  out: string,
  verdicts: RowVerdicts,
  options: WriteQuarantineOptions = {},
): Promise<QuarantineSummary> {
  const folders = { quarantine: join(out, 'quarantine'), clean: join(out, 'clean') };
  const temp = {
    quarantine: temporaryPathFor(folders.quarantine),
    clean: temporaryPathFor(folders.clean),
  };
  const decoder = createExampleDecoder({ ...options, source: input });
  const fileIndex = new Map<string, number>();
  const writers = new Map<string, ParquetWriter>();
  const files: Record<Partition, string[]> = { quarantine: [], clean: [] };
  const perSource: { file: string; rows: number; quarantined: number }[] = [];
  const seen = new Uint8Array(verdicts.rank.length);
  let groundTruth: Uint8Array | null = new Uint8Array(verdicts.rank.length);
  let rows = 0;
  let quarantined = 0;
  try {
    // Both folders exist even when one stays empty, so readers can always glob them.
    for (const part of PARTITIONS) await mkdir(temp[part], { recursive: true });
    for await (const sb of iterateDataset(input)) {
      const examples = decoder.decode(sb);
      if (!examples) continue;
      let f = fileIndex.get(sb.file.path);
      if (f === undefined) {
        f = fileIndex.size;
        fileIndex.set(sb.file.path, f);
        perSource.push({ file: sb.file.path, rows: 0, quarantined: 0 });
      }
      const source = perSource[f] as (typeof perSource)[number];
      const indices = examples.ids.map((id, i) => {
        const index = verdicts.index.get(id);
        if (index === undefined || seen[index]) {
          throw new DataError(
            ErrorCode.SchemaMismatch,
            index === undefined
              ? `the dataset changed during the audit: row id '${id}' was not in the scored data`
              : `the dataset changed during the audit: row id '${id}' appears twice`,
            { location: { file: sb.file.path, row: sb.rowOffset + i } },
          );
        }
        seen[index] = 1;
        return index;
      });
      const truth = sb.batch.getChild(GROUND_TRUTH_COLUMN);
      if (truth && String(truth.type) === 'Bool' && groundTruth) {
        indices.forEach((index, i) => {
          (groundTruth as Uint8Array)[index] = truth.get(i) === true ? 1 : 0;
        });
      } else groundTruth = null;
      const withScores = addScoreColumns(sb.batch, indices, verdicts);
      // Runs of consecutive rows bound for the same partition, written as slices of the batch.
      let start = 0;
      while (start < indices.length) {
        const part: Partition =
          (verdicts.rank[indices[start] as number] as number) < verdicts.isolated ? 'quarantine' : 'clean';
        let end = start + 1;
        while (
          end < indices.length &&
          (verdicts.rank[indices[end] as number] as number) < verdicts.isolated === (part === 'quarantine')
        )
          end++;
        const key = `${part}/${f}`;
        let writer = writers.get(key);
        if (!writer) {
          const name = `part-${String(f).padStart(5, '0')}.parquet`;
          writer = openParquetWriter(join(temp[part], name), withScores.schema);
          writers.set(key, writer);
          files[part].push(`${part}/${name}`);
        }
        await writer.write(withScores.slice(start, end));
        if (part === 'quarantine') {
          quarantined += end - start;
          source.quarantined += end - start;
        }
        start = end;
      }
      rows += indices.length;
      source.rows += indices.length;
      options.onProgress?.(rows);
    }
    decoder.finish();
    if (rows !== verdicts.rank.length) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `the dataset changed during the audit: ${verdicts.rank.length} rows were scored, ${rows} read now`,
        { location: { file: input } },
      );
    }
    for (const writer of writers.values()) await writer.close();
    for (const part of PARTITIONS) await replaceFolder(temp[part], folders[part]);
  } catch (error) {
    await Promise.all([...writers.values()].map((w) => w.abort().catch(() => undefined)));
    await Promise.all(PARTITIONS.map((p) => rm(temp[p], { recursive: true, force: true })));
    throw error;
  }
  return { rows, quarantined, clean: rows - quarantined, files, perSource, groundTruth };
}

/** The batch with `abl_loss`, `abl_score` and `abl_rank` appended (original schema metadata kept). */
function addScoreColumns(batch: RecordBatch, indices: readonly number[], v: RowVerdicts): RecordBatch {
  const n = indices.length;
  const loss = Float32Array.from(indices, (i) => v.loss[i] as number);
  const score = Float64Array.from(indices, (i) => v.score[i] as number);
  const rank = Int32Array.from(indices, (i) => v.rank[i] as number);
  const added: [string, Float32 | Float64 | Int32, Float32Array | Float64Array | Int32Array][] = [
    ['abl_loss', new Float32(), loss],
    ['abl_score', new Float64(), score],
    ['abl_rank', new Int32(), rank],
  ];
  const fields = [...batch.schema.fields];
  const children: Data[] = [...batch.data.children];
  for (const [name, type, values] of added) {
    if (fields.some((f) => f.name === name)) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `the input already has a column '${name}' (an audit output?); audit the original data instead`,
        { location: { column: name } },
      );
    }
    fields.push(new Field(name, type, false));
    children.push(makeData({ type, length: n, nullCount: 0, data: values } as never) as Data);
  }
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/** Moves a finished temporary folder into place, replacing the old one. */
async function replaceFolder(tmp: string, target: string): Promise<void> {
  try {
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (cause) {
    throw new IoError(
      ErrorCode.WriteFailed,
      `cannot move the partition into place: ${describeError(cause)}`,
      {
        cause,
        location: { file: target },
      },
    );
  }
}
