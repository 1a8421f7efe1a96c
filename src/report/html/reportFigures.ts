import { join } from 'node:path';
import { GROUND_TRUTH_COLUMN } from '../../abl/writeQuarantine.js';
import { createExampleDecoder } from '../../data/decodeExamples.js';
import { type ImageShape, imageSize } from '../../data/imageShape.js';
import type { ColumnOverrides } from '../../data/inferColumns.js';
import { iterateDataset } from '../../io/readDataset.js';
import type { AuditReport } from '../auditReport.js';

/** One bin of the score histogram: how many quarantined and kept rows fall in `[start, end)`. */
export interface ScoreBin {
  readonly start: number;
  readonly end: number;
  readonly quarantined: number;
  readonly kept: number;
}

/** A quarantined row shown as a thumbnail. */
export interface QuarantinedExample {
  readonly id: string;
  readonly label: number;
  readonly rank: number;
  readonly score: number;
  /** The input's ground truth (`poisoned` column) when it has one, else null. */
  readonly poisoned: boolean | null;
  /** H×W×C uint8 pixels. */
  readonly pixels: Uint8Array;
}

/**
 * The trigger view of one label: the mean quarantined image minus the mean kept image of the same
 * label. A patch trigger shows up as a bright or dark spot; a blend or warp as a faint texture.
 */
export interface TriggerView {
  readonly label: number;
  readonly quarantinedRows: number;
  readonly keptRows: number;
  readonly shape: ImageShape;
  /** Mean quarantined and mean kept images, H×W×C, 0–255. */
  readonly quarantinedMean: Float32Array;
  readonly keptMean: Float32Array;
}

/** What the HTML report shows beyond report.json: read from the audit's Parquet outputs. */
export interface ReportFigures {
  /** Score histogram, quarantined vs kept (null when scores.parquet has no rows). */
  readonly scoreBins: readonly ScoreBin[] | null;
  /** The most suspicious quarantined rows, by rank. */
  readonly topQuarantined: readonly QuarantinedExample[];
  /** Null when nothing was quarantined or no kept row shares the quarantined rows' label. */
  readonly trigger: TriggerView | null;
}

/** Options of {@link collectReportFigures}. */
export interface CollectFiguresOptions {
  /** How many of the top-ranked quarantined rows to show (default 40). */
  readonly thumbnails?: number;
  /** Histogram bins (default 40). */
  readonly bins?: number;
  /** Called with the rows read so far from the clean partition (the long part). */
  readonly onProgress?: (rows: number) => void;
}

/**
 * Reads what the HTML report needs from an audit's outputs: the score distribution from
 * `scores.parquet`, the top quarantined images from `quarantine/`, and the per-pixel means of the
 * trigger view from `quarantine/` and `clean/` (one streaming pass each; memory is one row group plus
 * the thumbnails).
 *
 * @param outDir - the audit's output folder (holding report.json).
 * @param report - its report.json.
 * @param options - thumbnail count, bins, progress.
 * @returns the figures' data.
 * @throws IoError / DataError when an output is missing or unreadable, naming the file.
 */
export async function collectReportFigures(
  outDir: string,
  report: AuditReport,
  options: CollectFiguresOptions = {},
): Promise<ReportFigures> {
  const columns: ColumnOverrides = {
    imageCol: report.data.columns.image,
    labelCol: report.data.columns.label,
    idCol: report.data.columns.id ?? undefined,
    imageShape: report.data.imageShape,
  };
  const scoreBins = await readScoreBins(join(outDir, report.outputs.scores), options.bins ?? 40);
  const label = triggerLabel(report);
  // An empty partition folder has no data files to read; nothing of it can be shown either.
  const quarantine =
    report.summary.quarantined === 0
      ? { top: [], triggerRows: 0, triggerSum: null }
      : await readQuarantine(join(outDir, 'quarantine'), columns, options.thumbnails ?? 40, label);
  const kept =
    label === null || quarantine.triggerRows === 0 || report.summary.quarantined === report.summary.rows
      ? null
      : await labelMean(join(outDir, 'clean'), columns, label, options.onProgress);
  const trigger =
    label === null || kept === null || kept.rows === 0 || quarantine.triggerSum === null
      ? null
      : {
          label,
          quarantinedRows: quarantine.triggerRows,
          keptRows: kept.rows,
          shape: report.data.imageShape,
          quarantinedMean: divide(quarantine.triggerSum, quarantine.triggerRows),
          keptMean: divide(kept.sum, kept.rows),
        };
  return { scoreBins, topQuarantined: quarantine.top, trigger };
}

/**
 * The label whose quarantined rows the trigger view compares with its kept rows: the suspected target
 * class, or else the label most quarantined rows carry (null when nothing was quarantined).
 */
export function triggerLabel(report: AuditReport): number | null {
  if (report.summary.suspectedTargetClass !== null) return report.summary.suspectedTargetClass;
  let best: { label: number; quarantined: number } | null = null;
  for (const c of report.data.perClass) {
    if (c.quarantined > 0 && (best === null || c.quarantined > best.quarantined)) best = c;
  }
  return best?.label ?? null;
}

/**
 * Equal-width bins over the range of all scores, counting quarantined and kept rows separately.
 * Infinite or NaN scores are left out (a loss floor keeps them from occurring in practice).
 */
export function binScores(
  scores: ArrayLike<number>,
  quarantined: ArrayLike<boolean>,
  bins: number,
): ScoreBin[] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) continue;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (lo > hi) return [];
  // One bin of width 1 around a single value, so a constant score still draws a bar.
  const width = hi > lo ? (hi - lo) / bins : 1;
  const count = hi > lo ? bins : 1;
  const start = hi > lo ? lo : lo - 0.5;
  const q = new Float64Array(count);
  const k = new Float64Array(count);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) continue;
    const b = Math.min(count - 1, Math.floor((s - start) / width));
    if (quarantined[i]) q[b] = (q[b] as number) + 1;
    else k[b] = (k[b] as number) + 1;
  }
  return Array.from({ length: count }, (_, b) => ({
    start: start + b * width,
    end: start + (b + 1) * width,
    quarantined: q[b] as number,
    kept: k[b] as number,
  }));
}

async function readScoreBins(path: string, bins: number): Promise<ScoreBin[] | null> {
  const scores: number[] = [];
  const isolated: boolean[] = [];
  for await (const sb of iterateDataset(path)) {
    const score = sb.batch.getChild('abl_score');
    const flag = sb.batch.getChild('abl_isolated');
    if (!score || !flag) continue;
    for (let i = 0; i < sb.batch.numRows; i++) {
      scores.push(Number(score.get(i)));
      isolated.push(flag.get(i) === true);
    }
  }
  return scores.length === 0 ? null : binScores(scores, isolated, bins);
}

interface QuarantineScan {
  readonly top: QuarantinedExample[];
  readonly triggerRows: number;
  readonly triggerSum: Float64Array | null;
}

async function readQuarantine(
  folder: string,
  columns: ColumnOverrides,
  thumbnails: number,
  label: number | null,
): Promise<QuarantineScan> {
  const decoder = createExampleDecoder({ ...columns, source: folder });
  const top: QuarantinedExample[] = [];
  let triggerRows = 0;
  let triggerSum: Float64Array | null = null;
  for await (const sb of iterateDataset(folder)) {
    const ex = decoder.decode(sb);
    if (!ex) continue;
    const size = imageSize(ex.shape);
    const rank = sb.batch.getChild('abl_rank');
    const score = sb.batch.getChild('abl_score');
    const truth = sb.batch.getChild(GROUND_TRUTH_COLUMN);
    const hasTruth = truth !== null && String(truth.type) === 'Bool';
    ex.ids.forEach((id, i) => {
      const pixels = ex.images.subarray(i * size, (i + 1) * size);
      const r = rank ? Number(rank.get(i)) : Number.POSITIVE_INFINITY;
      // Ranks of quarantined rows are 0..isolated−1, so the top ones are simply the smallest ranks.
      if (r < thumbnails) {
        top.push({
          id,
          label: ex.labels[i] as number,
          rank: r,
          score: score ? Number(score.get(i)) : Number.NaN,
          poisoned: hasTruth ? truth.get(i) === true : null,
          pixels: pixels.slice(),
        });
      }
      if (ex.labels[i] === label) {
        triggerSum ??= new Float64Array(size);
        accumulate(triggerSum, pixels);
        triggerRows++;
      }
    });
  }
  top.sort((a, b) => a.rank - b.rank);
  return { top: top.slice(0, thumbnails), triggerRows, triggerSum };
}

async function labelMean(
  folder: string,
  columns: ColumnOverrides,
  label: number,
  onProgress?: (rows: number) => void,
): Promise<{ rows: number; sum: Float64Array }> {
  const decoder = createExampleDecoder({ ...columns, source: folder });
  const size = imageSize(columns.imageShape as ImageShape);
  const sum = new Float64Array(size);
  let rows = 0;
  let read = 0;
  for await (const sb of iterateDataset(folder)) {
    const ex = decoder.decode(sb);
    if (!ex) continue;
    for (let i = 0; i < ex.ids.length; i++) {
      if (ex.labels[i] !== label) continue;
      accumulate(sum, ex.images.subarray(i * size, (i + 1) * size));
      rows++;
    }
    read += ex.ids.length;
    onProgress?.(read);
  }
  return { rows, sum };
}

function accumulate(sum: Float64Array, pixels: Uint8Array): void {
  for (let p = 0; p < pixels.length; p++) sum[p] = (sum[p] as number) + (pixels[p] as number);
}

function divide(sum: Float64Array, n: number): Float32Array {
  return Float32Array.from(sum, (v) => v / n);
}
