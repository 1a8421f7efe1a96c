import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import { createExampleDecoder, type ExampleDecoder } from '../data/decodeExamples.js';
import type { ExampleBatch } from '../data/exampleBatch.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import { DataError, describeError, ErrorCode, IoError } from '../errors.js';
import { column, columnsOf, float32Data, float64Data, int32Data, recordBatchOf } from '../io/arrowColumns.js';
import { temporaryPathFor } from '../io/atomicWrite.js';
import type { DataFile } from '../io/dataFile.js';
import { openParquetWriter, type ParquetWriter } from '../io/openParquetWriter.js';
import { iterateDataset, type SourceBatch } from '../io/readDataset.js';

/** Columns the audit adds to every row of the quarantine and clean partitions. */
export const ABL_COLUMNS = ['abl_loss', 'abl_score', 'abl_rank', 'abl_suspicion'] as const;

/** The partitions an audit writes, by row call (see `ROW_CALLS`). */
export const PARTITIONS = ['quarantine', 'review', 'clean'] as const;
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
  /** Each row's partition: 0 clean, 1 review, 2 quarantine (see `ROW_CALLS`). */
  readonly calls: Uint8Array;
  /** Each row's suspicion: robust standard deviations below its flagged class's clean mode (else 0). */
  readonly suspicion: Float32Array;
}

/** Options of {@link writeQuarantine}. */
export interface WriteQuarantineOptions extends ColumnOverrides {
  /** Called with rows done so far. */
  readonly onProgress?: (rows: number) => void;
  /**
   * Called with every decoded batch and its rows' indices (in the first pass's order) before they are
   * written: the place to compute anything else from the same pass (the report's figures).
   */
  readonly onRows?: (
    examples: ExampleBatch,
    indices: readonly number[],
    batch: RecordBatch,
    file: DataFile,
  ) => void;
}

/** What {@link writeQuarantine} wrote. */
export interface QuarantineSummary {
  readonly rows: number;
  readonly quarantined: number;
  readonly review: number;
  readonly clean: number;
  /** Part files written, relative to the output folder, per partition. */
  readonly files: Readonly<Record<Partition, readonly string[]>>;
  /** Rows and quarantined rows of each source file, in reading order. */
  readonly perSource: readonly {
    readonly file: string;
    readonly rows: number;
    readonly quarantined: number;
    readonly review: number;
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
 * and with every original column, to `OUT/quarantine/` (the isolated rows), `OUT/review/` (the review
 * band) or `OUT/clean/` (the rest), one Parquet part per source file (`part-00000.parquet` for the
 * first file read), each row gaining `abl_loss`, `abl_score`, `abl_rank` and `abl_suspicion`.
 *
 * <span class="informal">Pulls one batch at a time and awaits each write, so memory holds one batch
 * whatever the data's size. The folders are built under temporary names and renamed into place only
 * when the pass completes, replacing earlier ones: a failed pass leaves no partition half-written.
 * Every row must be one the first pass scored, and every scored row must appear once, or the pass
 * fails (the data changed under the audit).</span>
 *
 * @param input - the training data (as given to the audit).
 * @param out - the audit's output folder.
 * @param verdicts - ids, scores, ranks and each row's partition.
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
  const pass = startPass(input, out, verdicts, options);
  try {
    // Every folder exists even when it stays empty, so readers can always glob them.
    for (const part of PARTITIONS) await mkdir(pass.temp[part], { recursive: true });
    for await (const sb of iterateDataset(input)) {
      const examples = pass.decoder.decode(sb);
      if (!examples) continue;
      await quarantineBatch(pass, sb, examples);
      options.onProgress?.(pass.rows);
    }
    await finishPass(pass);
  } catch (error) {
    await abortPass(pass);
    throw error;
  }
  const { rows, quarantined, review, files, perSource, groundTruth } = pass;
  return { rows, quarantined, review, clean: rows - quarantined - review, files, perSource, groundTruth };
}

/** What the pass carries from one batch to the next. */
interface QuarantinePass {
  readonly input: string;
  readonly verdicts: RowVerdicts;
  readonly decoder: ExampleDecoder;
  readonly onRows: WriteQuarantineOptions['onRows'];
  /** The partitions' final folders, and the temporary ones they are built in. */
  readonly folders: Readonly<Record<Partition, string>>;
  readonly temp: Readonly<Record<Partition, string>>;
  /** Index of each source file, in reading order: it numbers the file's parts. */
  readonly fileIndex: Map<string, number>;
  /** Open part writers, by `partition/file index`. */
  readonly writers: Map<string, ParquetWriter>;
  readonly files: Record<Partition, string[]>;
  readonly perSource: { file: string; rows: number; quarantined: number; review: number }[];
  /** 1 for each scored row read so far, by row index: a row read twice means the data changed. */
  readonly seen: Uint8Array;
  groundTruth: Uint8Array | null;
  rows: number;
  quarantined: number;
  review: number;
}

function startPass(
  input: string,
  out: string,
  verdicts: RowVerdicts,
  options: WriteQuarantineOptions,
): QuarantinePass {
  const folders = {
    quarantine: join(out, 'quarantine'),
    review: join(out, 'review'),
    clean: join(out, 'clean'),
  };
  return {
    input,
    verdicts,
    decoder: createExampleDecoder({ ...options, source: input }),
    onRows: options.onRows,
    folders,
    temp: {
      quarantine: temporaryPathFor(folders.quarantine),
      review: temporaryPathFor(folders.review),
      clean: temporaryPathFor(folders.clean),
    },
    fileIndex: new Map(),
    writers: new Map(),
    files: { quarantine: [], review: [], clean: [] },
    perSource: [],
    seen: new Uint8Array(verdicts.rank.length),
    groundTruth: new Uint8Array(verdicts.rank.length),
    rows: 0,
    quarantined: 0,
    review: 0,
  };
}

/** The per-batch step: checks the batch's rows against the first pass and writes each to its partition. */
async function quarantineBatch(pass: QuarantinePass, sb: SourceBatch, examples: ExampleBatch): Promise<void> {
  const f = sourceIndex(pass, sb.file.path);
  const source = pass.perSource[f] as (typeof pass.perSource)[number];
  const indices = scoredRows(pass, sb, examples.ids);
  recordGroundTruth(pass, sb.batch, indices);
  pass.onRows?.(examples, indices, sb.batch, sb.file);
  const withScores = addScoreColumns(sb.batch, indices, pass.verdicts);
  for (const [part, start, end] of partitionRuns(indices, pass.verdicts)) {
    await writerFor(pass, part, f, withScores.schema).write(withScores.slice(start, end));
    if (part !== 'clean') {
      pass[part === 'quarantine' ? 'quarantined' : 'review'] += end - start;
      source[part === 'quarantine' ? 'quarantined' : 'review'] += end - start;
    }
  }
  pass.rows += indices.length;
  source.rows += indices.length;
}

/** The index of a source file, numbering it (and starting its counts) the first time it is seen. */
function sourceIndex(pass: QuarantinePass, file: string): number {
  let f = pass.fileIndex.get(file);
  if (f === undefined) {
    f = pass.fileIndex.size;
    pass.fileIndex.set(file, f);
    pass.perSource.push({ file, rows: 0, quarantined: 0, review: 0 });
  }
  return f;
}

/** The first pass's row index of each id, marking them seen; fails on an unknown or repeated id. */
function scoredRows(pass: QuarantinePass, sb: SourceBatch, ids: readonly string[]): number[] {
  return ids.map((id, i) => {
    const index = pass.verdicts.index.get(id);
    if (index === undefined || pass.seen[index]) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        index === undefined
          ? `the dataset changed during the audit: row id '${id}' was not in the scored data`
          : `the dataset changed during the audit: row id '${id}' appears twice`,
        { location: { file: sb.file.path, row: sb.rowOffset + i } },
      );
    }
    pass.seen[index] = 1;
    return index;
  });
}

/** Copies the batch's ground-truth column into the pass's; a batch without one drops it for good. */
function recordGroundTruth(pass: QuarantinePass, batch: RecordBatch, indices: readonly number[]): void {
  const truth = batch.getChild(GROUND_TRUTH_COLUMN);
  const groundTruth = pass.groundTruth;
  if (truth && String(truth.type) === 'Bool' && groundTruth) {
    indices.forEach((index, i) => {
      groundTruth[index] = truth.get(i) === true ? 1 : 0;
    });
  } else pass.groundTruth = null;
}

/**
 * Runs of consecutive rows bound for the same partition, as `[partition, start, end)`: each run is
 * written as one slice of the batch.
 */
function* partitionRuns(indices: readonly number[], v: RowVerdicts): Generator<[Partition, number, number]> {
  const callOf = (i: number) => v.calls[indices[i] as number] as number;
  const byCall: readonly Partition[] = ['clean', 'review', 'quarantine'];
  let start = 0;
  while (start < indices.length) {
    const call = callOf(start);
    let end = start + 1;
    while (end < indices.length && callOf(end) === call) end++;
    yield [byCall[call] ?? 'clean', start, end];
    start = end;
  }
}

/** The writer of a source file's part in a partition, opened the first time a row goes there. */
function writerFor(pass: QuarantinePass, part: Partition, f: number, schema: Schema): ParquetWriter {
  const key = `${part}/${f}`;
  let writer = pass.writers.get(key);
  if (!writer) {
    const name = `part-${String(f).padStart(5, '0')}.parquet`;
    writer = openParquetWriter(join(pass.temp[part], name), schema);
    pass.writers.set(key, writer);
    pass.files[part].push(`${part}/${name}`);
  }
  return writer;
}

/** Checks that every scored row was read, closes the parts and moves both partitions into place. */
async function finishPass(pass: QuarantinePass): Promise<void> {
  pass.decoder.finish();
  if (pass.rows !== pass.verdicts.rank.length) {
    throw new DataError(
      ErrorCode.SchemaMismatch,
      `the dataset changed during the audit: ${pass.verdicts.rank.length} rows were scored, ${pass.rows} read now`,
      { location: { file: pass.input } },
    );
  }
  for (const writer of pass.writers.values()) await writer.close();
  for (const part of PARTITIONS) await replaceFolder(pass.temp[part], pass.folders[part]);
}

/** Drops every part and temporary folder; the previous partitions stay as they were. */
async function abortPass(pass: QuarantinePass): Promise<void> {
  await Promise.all([...pass.writers.values()].map((w) => w.abort().catch(() => undefined)));
  await Promise.all(PARTITIONS.map((p) => rm(pass.temp[p], { recursive: true, force: true })));
}

/** The batch with `abl_loss`, `abl_score`, `abl_rank` and `abl_suspicion` appended (original schema metadata kept). */
function addScoreColumns(batch: RecordBatch, indices: readonly number[], v: RowVerdicts): RecordBatch {
  const added = [
    column('abl_loss', float32Data(Float32Array.from(indices, (i) => v.loss[i] as number))),
    column('abl_score', float64Data(Float64Array.from(indices, (i) => v.score[i] as number))),
    column('abl_rank', int32Data(Int32Array.from(indices, (i) => v.rank[i] as number))),
    column('abl_suspicion', float32Data(Float32Array.from(indices, (i) => v.suspicion[i] as number))),
  ];
  for (const { field } of added) {
    if (batch.schema.fields.some((f) => f.name === field.name)) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `the input already has a column '${field.name}' (an audit output?); audit the original data instead`,
        { location: { column: field.name } },
      );
    }
  }
  return recordBatchOf([...columnsOf(batch), ...added], batch.schema.metadata);
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
