import type { Field, RecordBatch } from 'apache-arrow';
import { lastValueFrom, tap } from 'rxjs';
import type { AttackSpec } from '../attacks/createTrigger.js';
import { createTrigger } from '../attacks/createTrigger.js';
import type { AttackName, Trigger } from '../attacks/types.js';
import { wanetNoiseTrigger } from '../attacks/wanet.js';
import { createExampleDecoder, decodeExamples } from '../data/decodeExamples.js';
import type { ExampleBatch } from '../data/exampleBatch.js';
import { imageSize } from '../data/imageShape.js';
import type { ColumnOverrides, DatasetColumns } from '../data/inferColumns.js';
import { DataError, ErrorCode, UsageError } from '../errors.js';
import {
  type BatchColumn,
  boolData,
  column,
  columnsOf,
  numericDataOfType,
  recordBatchOf,
  utf8Data,
} from '../io/arrowColumns.js';
import type { DataFile } from '../io/dataFile.js';
import { listDataFiles } from '../io/listDataFiles.js';
import { openParquetWriter } from '../io/openParquetWriter.js';
import { iterateDataset, readDataset } from '../io/readDataset.js';
import { deriveSeed, mulberry32, sampleWithoutReplacement } from '../util/random.js';
import { GROUND_TRUTH_COLUMNS, POISON_METADATA_KEY } from './columns.js';
import { rebuildImageColumn } from './rebuildImageColumn.js';
import { type PoisonMode, poisonedLabel, type RateOf, selectPoisonRows } from './selectPoisonRows.js';

/** An attack's parameters without its seed, which poisoning derives from the run's seed. */
export type AttackParams = AttackSpec extends infer S ? (S extends unknown ? Omit<S, 'seed'> : never) : never;

/** Options shared by {@link poisonDataset} and {@link poisonTestSet}. */
export interface PoisonOptions extends ColumnOverrides {
  /** The trigger and its parameters. Its seed is derived from {@link PoisonOptions.seed}. */
  readonly attack: AttackParams;
  /**
   * Fraction of the training rows to poison, in (0, 1): of all rows (default) or of the eligible ones,
   * as {@link PoisonOptions.rateOf} says. {@link poisonTestSet} triggers every eligible test row and
   * ignores it.
   */
  readonly rate: number;
  /**
   * What {@link PoisonOptions.rate} is a share of. `all` (default): of every training row, as the ABL
   * reference code and BackdoorBench read it, the rows drawn from the eligible ones (an error when there
   * are too few); `eligible`: of the eligible rows alone, abl-audit's reading before this option.
   */
  readonly rateOf?: RateOf;
  /** Target class (default 0). */
  readonly target?: number;
  /** Default all-to-one. */
  readonly mode?: PoisonMode;
  /** Fixes the rows chosen and every random trigger pattern. */
  readonly seed: number;
  /**
   * WaNet's noise mode: this many "cross" rows per poisoned row (the paper uses 2) get the warp plus
   * random noise and keep their labels, so a model cannot learn just any warp. Default 0 (off).
   */
  readonly crossRatio?: number;
  /** Number of classes when the data's metadata has no class names (default: max label + 1). */
  readonly numClasses?: number;
  /** Rows done so far, for progress display. */
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

/**
 * What a poisoning run did; also stored, as JSON, in the output's schema metadata (all of it but
 * `output`, so that the file's bytes do not depend on its path).
 */
export interface PoisonSummary {
  readonly output: string;
  readonly attack: AttackName;
  readonly mode: PoisonMode;
  readonly target: number;
  readonly rate: number;
  /**
   * What {@link PoisonSummary.rate} was a share of. In the file's metadata only when `all`: a record
   * without it (`eligible`, or a file written before the option) read the rate as a share of the eligible
   * rows.
   */
  readonly rateOf: RateOf;
  readonly seed: number;
  readonly cleanLabel: boolean;
  readonly numClasses: number;
  readonly rows: number;
  readonly eligible: number;
  readonly poisoned: number;
  /** `poisoned / rows`, whatever the rate was a share of (not in the file's metadata: it follows from it). */
  readonly poisonedShare: number;
  readonly cross: number;
  /** Poisoned rows per original label. */
  readonly poisonedPerClass: readonly number[];
}

interface Scan {
  readonly files: DataFile[];
  readonly labels: Int32Array;
  readonly columns: DatasetColumns;
  readonly numClasses: number;
}

/**
 * Stamps a backdoor onto a dataset: a copy with every input column and row order kept, exactly
 * `round(rate × rows)` rows (`rateOf: 'eligible'`: `round(rate × eligible)`), all of them eligible,
 * triggered and (for dirty-label attacks) relabelled, and three
 * ground-truth columns added — `poisoned`, `label_original`, `attack` — to score an audit with.
 *
 * <span class="informal">Two streaming passes: one reads the labels to choose rows, one rewrites the
 * batches into the output file, which appears only when complete.</span>
 *
 * @param input - a dataset the data plane reads.
 * @param output - the Parquet file to write.
 * @returns the counts, which are also stored in the output's metadata (`abl_audit.poison`).
 * @throws UsageError for bad parameters; DataError for bad data or an input that already has
 * ground-truth columns.
 */
export async function poisonDataset(
  input: string,
  output: string,
  options: PoisonOptions,
): Promise<PoisonSummary> {
  const scan = await scanLabels(input, options);
  const trigger = makeTrigger(options);
  const mode = options.mode ?? 'all-to-one';
  const target = options.target ?? 0;
  const rateOf = options.rateOf ?? 'all';
  const { rows, eligible } = selectPoisonRows(scan.labels, {
    rate: options.rate,
    rateOf,
    mode,
    target,
    cleanLabel: trigger.cleanLabel,
    numClasses: scan.numClasses,
    seed: deriveSeed(options.seed, 'poison-rows'),
  });
  const poisonedSet = new Set(rows);
  const cross = chooseCrossRows(scan.labels.length, poisonedSet, options);
  // Same field as the poisoned rows (same seed), plus per-row noise: WaNet's noise mode.
  const crossTrigger =
    cross.size && options.attack.attack === 'wanet'
      ? wanetNoiseTrigger({ ...options.attack, seed: deriveSeed(options.seed, 'trigger') })
      : null;

  const poisonedPerClass = new Array<number>(scan.numClasses).fill(0);
  for (const r of rows)
    poisonedPerClass[scan.labels[r] as number] = (poisonedPerClass[scan.labels[r] as number] ?? 0) + 1;
  const summary: PoisonSummary = {
    output,
    attack: trigger.name,
    mode,
    target,
    rate: options.rate,
    rateOf,
    seed: options.seed,
    cleanLabel: trigger.cleanLabel,
    numClasses: scan.numClasses,
    rows: scan.labels.length,
    eligible,
    poisoned: rows.length,
    poisonedShare: rows.length / scan.labels.length,
    cross: cross.size,
    poisonedPerClass,
  };

  await rewrite(scan, output, summary, options, (ex, globalRow, local) => {
    if (poisonedSet.has(globalRow)) {
      applyTo(ex, local, trigger);
      return {
        keep: true,
        poisoned: true,
        attack: trigger.name,
        label: poisonedLabel(ex.labels[local] as number, mode, target, trigger.cleanLabel, scan.numClasses),
      };
    }
    if (crossTrigger && cross.has(globalRow)) {
      applyTo(ex, local, crossTrigger);
      return { keep: true, poisoned: false, attack: 'wanet-noise', label: ex.labels[local] as number };
    }
    return { keep: true, poisoned: false, attack: null, label: ex.labels[local] as number };
  });
  return summary;
}

/** What {@link poisonTestSet} wrote. */
export interface TestPoisonSummary {
  readonly output: string;
  readonly attack: AttackName;
  readonly mode: PoisonMode;
  readonly target: number;
  /** Rows of the clean test set. */
  readonly rows: number;
  /** Rows written: every row whose true class is not the target (all-to-one), or every row (all-to-all). */
  readonly triggered: number;
  /** How attack success is to be measured on this file. */
  readonly convention: string;
  /** The seed the trigger's random pattern (blend noise, WaNet field) came from: the training set's. */
  readonly seed: number;
}

/**
 * Makes the triggered test set that attack success rate is measured on, by the standard convention:
 * every test row whose true class is not the target gets the trigger and the target label (all-to-one,
 * and clean-label attacks too); in all-to-all mode every row gets the trigger and label + 1 mod K.
 * Rows of the target class are left out, since a trigger cannot be said to succeed on them.
 *
 * Give it the training run's class count (`numClasses: summary.numClasses`) when the data has no class
 * names: inferred from a test set's own largest label, K could differ from the training set's and
 * all-to-all labels (label + 1 mod K) would then disagree between the two files.
 *
 * @param input - the clean test set.
 * @param output - the Parquet file to write (same columns plus the ground-truth columns).
 */
export async function poisonTestSet(
  input: string,
  output: string,
  options: PoisonOptions,
): Promise<TestPoisonSummary> {
  const scan = await scanLabels(input, options);
  const trigger = makeTrigger(options);
  const mode = options.mode ?? 'all-to-one';
  const target = options.target ?? 0;
  if (!Number.isInteger(target) || target < 0 || target >= scan.numClasses) {
    throw new UsageError(`--target ${target} is not a class of this data (classes 0-${scan.numClasses - 1})`);
  }
  // The same refusal as selectPoisonRows makes for the training set: a clean-label trigger has no
  // relabelling rule to apply per class, so an all-to-all test set for it would measure nothing.
  if (trigger.cleanLabel && mode === 'all-to-all') {
    throw new UsageError(
      'a clean-label attack keeps labels, so it has no all-to-all mode; use --mode all-to-one',
    );
  }
  const convention =
    mode === 'all-to-all'
      ? 'every test row triggered and labelled (label + 1) mod K; ASR = share predicted as that label'
      : 'test rows whose true class is not the target, triggered and labelled with the target; ASR = share predicted as the target';
  let triggered = 0;
  for (const l of scan.labels) if (mode === 'all-to-all' || l !== target) triggered++;
  const summary: TestPoisonSummary = {
    output,
    attack: trigger.name,
    mode,
    target,
    rows: scan.labels.length,
    triggered,
    convention,
    seed: options.seed,
  };
  await rewrite(scan, output, summary, options, (ex, _globalRow, local) => {
    const label = ex.labels[local] as number;
    if (mode !== 'all-to-all' && label === target)
      return { keep: false, poisoned: false, attack: null, label };
    applyTo(ex, local, trigger);
    return {
      keep: true,
      poisoned: true,
      attack: trigger.name,
      label: poisonedLabel(label, mode, target, false, scan.numClasses),
    };
  });
  return summary;
}

function makeTrigger(options: PoisonOptions): Trigger {
  return createTrigger({ ...options.attack, seed: deriveSeed(options.seed, 'trigger') } as AttackSpec);
}

function chooseCrossRows(n: number, poisoned: Set<number>, options: PoisonOptions): Set<number> {
  const ratio = options.crossRatio ?? 0;
  if (ratio === 0) return new Set();
  if (options.attack.attack !== 'wanet')
    throw new UsageError('--cross-ratio (noise mode) applies to the wanet attack only');
  if (!(ratio > 0)) throw new UsageError(`--cross-ratio must be >= 0, got ${ratio}`);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (!poisoned.has(i)) candidates.push(i);
  const count = Math.min(candidates.length, Math.round(ratio * poisoned.size));
  return new Set(
    sampleWithoutReplacement(candidates, count, mulberry32(deriveSeed(options.seed, 'cross-rows'))),
  );
}

/** Pass 1: every label, the inferred columns and the class count; refuses already-poisoned data. */
async function scanLabels(input: string, options: PoisonOptions): Promise<Scan> {
  const files = await listDataFiles(input);
  const chunks: Int32Array[] = [];
  let columns: DatasetColumns | undefined;
  let firstFile = input;
  await lastValueFrom(
    readDataset(files).pipe(
      tap((sb) => {
        if (columns) return;
        firstFile = sb.file.path;
        const clash = sb.batch.schema.fields.find((f) =>
          (GROUND_TRUTH_COLUMNS as readonly string[]).includes(f.name),
        );
        if (clash) {
          throw new DataError(
            ErrorCode.SchemaMismatch,
            `input already has the ground-truth column '${clash.name}' (it was poisoned before); poison the clean data instead`,
            { location: { file: sb.file.path, column: clash.name } },
          );
        }
      }),
      decodeExamples({ ...options, source: input, onColumns: (c) => (columns = c) }),
      tap((ex) => chunks.push(ex.labels)),
    ),
  );
  if (!columns)
    throw new DataError(ErrorCode.EmptyDataset, 'dataset has no rows', { location: { file: firstFile } });
  const labels = new Int32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    labels.set(c, at);
    at += c.length;
  }
  let max = -1;
  for (const l of labels) if (l > max) max = l;
  const numClasses = options.numClasses ?? columns.classNames?.length ?? max + 1;
  return { files, labels, columns, numClasses };
}

function applyTo(ex: ExampleBatch, row: number, trigger: Trigger): void {
  const size = imageSize(ex.shape);
  const mutable = ex.images as Uint8Array;
  mutable.set(trigger.apply(mutable.subarray(row * size, (row + 1) * size), ex.shape), row * size);
}

interface RowDecision {
  readonly keep: boolean;
  readonly poisoned: boolean;
  readonly attack: string | null;
  readonly label: number;
}

/** Pass 2: decodes each batch again, lets `decide` change rows, and streams the result to `output`. */
async function rewrite(
  scan: Scan,
  output: string,
  summary: PoisonSummary | TestPoisonSummary,
  options: PoisonOptions,
  decide: (ex: ExampleBatch, globalRow: number, localRow: number) => RowDecision,
): Promise<void> {
  const decoder = createExampleDecoder({ ...options, source: scan.files[0]?.path });
  let writer: ReturnType<typeof openParquetWriter> | null = null;
  let globalRow = 0;
  try {
    for await (const sb of iterateDataset(scan.files)) {
      const ex = decoder.decode(sb);
      if (!ex) continue;
      const n = ex.ids.length;
      const decisions = Array.from({ length: n }, (_, r) => decide(ex, globalRow + r, r));
      const batch = outputBatch(ex, scan.columns, decisions, summary);
      writer ??= openParquetWriter(output, batch.schema);
      for (const [start, end] of keptRuns(decisions))
        await writer.write(start === 0 && end === n ? batch : batch.slice(start, end));
      globalRow += n;
      options.onProgress?.(globalRow, scan.labels.length);
    }
    decoder.finish();
    if (!writer)
      throw new DataError(ErrorCode.EmptyDataset, 'dataset has no rows', { location: { file: output } });
    await writer.close();
  } catch (error) {
    await writer?.abort();
    throw error;
  }
}

function keptRuns(decisions: readonly RowDecision[]): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  decisions.forEach((d, i) => {
    if (d.keep && start < 0) start = i;
    if (!d.keep && start >= 0) {
      runs.push([start, i]);
      start = -1;
    }
  });
  if (start >= 0) runs.push([start, decisions.length]);
  return runs;
}

function outputBatch(
  ex: ExampleBatch,
  columns: DatasetColumns,
  decisions: readonly RowDecision[],
  summary: PoisonSummary | TestPoisonSummary,
): RecordBatch {
  const src = ex.batch;
  const labelField = src.schema.fields.find((f) => f.name === columns.label) as Field;
  const kept = columnsOf(src).map(({ field, data }): BatchColumn => {
    if (field.name === columns.image.name) {
      const rebuilt = rebuildImageColumn(
        data,
        columns.image.encoding,
        ex.shape,
        ex.images,
        (r) => (decisions[r] as RowDecision).attack !== null,
      );
      return { field: field.clone({ nullable: false }), data: rebuilt };
    }
    if (field.name === columns.label) {
      const labels = numericDataOfType(
        field.type,
        Int32Array.from(decisions, (d) => d.label),
      );
      return { field: field.clone({ nullable: false }), data: labels };
    }
    return { field, data };
  });
  const added = [
    column('poisoned', boolData(decisions.map((d) => d.poisoned))),
    column('label_original', numericDataOfType(labelField.type, ex.labels)),
    column('attack', utf8Data(decisions.map((d) => d.attack)), { nullable: true }),
  ];
  const metadata = new Map(src.schema.metadata);
  metadata.set(POISON_METADATA_KEY, JSON.stringify(recordedSummary(summary)));
  return recordBatchOf([...kept, ...added], metadata);
}

/**
 * What a file's `abl_audit.poison` metadata holds: the summary without the output path (the file's bytes
 * must not depend on where it was written, or a rerun with the same seed into another folder — fixture
 * regeneration, CI — would not reproduce them) and without the share, which follows from the counts.
 * `rateOf` is left out when `eligible`, the only reading before the option existed, so that such a file
 * is byte for byte what earlier versions wrote (the committed fixtures are) and a record without it
 * means the same in old files and new.
 */
function recordedSummary(summary: PoisonSummary | TestPoisonSummary): object {
  const { output: _where, ...rest } = summary;
  if (!('rateOf' in rest)) return rest;
  const { poisonedShare: _share, ...recorded } = rest;
  if (recorded.rateOf !== 'eligible') return recorded;
  const { rateOf: _eligible, ...legacy } = recorded;
  return legacy;
}
