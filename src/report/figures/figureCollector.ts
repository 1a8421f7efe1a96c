import type {
  ReportFigures,
  ReportImageShape,
  ReportThumbnail,
  ReportTriggerView,
  ScoreBin,
} from '../auditReport.js';
import { blockAverage, shrinkFactor } from './blockAverage.js';
import { DEFAULT_THUMBNAILS, MAX_EMBEDDED_SIDE, MAX_HEATMAP_SIDE } from './figureLimits.js';
import { imageDataUri } from './imageDataUri.js';

/** One decoded row as the quarantine pass sees it. */
export interface FigureRow {
  readonly id: string;
  readonly label: number;
  /** 0 = most suspicious. */
  readonly rank: number;
  readonly score: number;
  readonly quarantined: boolean;
  /** The input's ground truth when it has a `poisoned` column, else null. */
  readonly poisoned: boolean | null;
  /** H×W×C uint8 pixels (read during the call only; copied where kept). */
  readonly pixels: Uint8Array;
}

/** Options of {@link createFigureCollector}. */
export interface FigureCollectorOptions {
  readonly shape: ReportImageShape;
  /** The label of the trigger view (see {@link triggerLabel}); null draws none. */
  readonly triggerLabel: number | null;
  /** How many of the top-ranked quarantined rows to keep as thumbnails (default 40). */
  readonly thumbnails?: number;
}

/** Accumulates the report's figures from the rows of one pass; see {@link createFigureCollector}. */
export interface FigureCollector {
  /** Whether the pass needs this row's pixels (decoding can be skipped otherwise). */
  wants(label: number, rank: number, quarantined: boolean): boolean;
  add(row: FigureRow): void;
  /** The figures, with the score histogram computed elsewhere (from every row's score). */
  finish(scoreBins: readonly ScoreBin[] | null): ReportFigures;
}

/**
 * Collects what report.html draws from one streaming pass over the rows: the top quarantined rows as
 * thumbnails and the per-pixel sums of the trigger view. Memory: the thumbnails plus two sums of one
 * image each.
 *
 * @example
 * ```ts
 * const figures = createFigureCollector({ shape, triggerLabel: 0 });
 * for (const row of rows) if (figures.wants(row.label, row.rank, row.quarantined)) figures.add(row);
 * const result = figures.finish(binScores(scores, quarantinedFlags, 40));
 * ```
 * @param options - the image shape, the trigger view's label and the thumbnail count.
 * @returns the collector.
 */
export function createFigureCollector(options: FigureCollectorOptions): FigureCollector {
  const { shape, triggerLabel } = options;
  const thumbnails = options.thumbnails ?? DEFAULT_THUMBNAILS;
  const size = shape.height * shape.width * shape.channels;
  const top: { row: FigureRow; pixels: Uint8Array }[] = [];
  const quarantinedSum = new Float64Array(size);
  const keptSum = new Float64Array(size);
  let quarantinedRows = 0;
  let keptRows = 0;
  return {
    wants: (label, rank, quarantined) => (quarantined && rank < thumbnails) || label === triggerLabel,
    add(row) {
      // Ranks of quarantined rows are 0..k−1, so the top ones are simply the smallest ranks.
      if (row.quarantined && row.rank < thumbnails) top.push({ row, pixels: row.pixels.slice() });
      if (row.label !== triggerLabel) return;
      if (row.quarantined) {
        accumulate(quarantinedSum, row.pixels);
        quarantinedRows++;
      } else {
        accumulate(keptSum, row.pixels);
        keptRows++;
      }
    },
    finish(scoreBins) {
      top.sort((a, b) => a.row.rank - b.row.rank);
      const trigger =
        triggerLabel === null || quarantinedRows === 0 || keptRows === 0
          ? null
          : triggerView(triggerLabel, shape, quarantinedSum, quarantinedRows, keptSum, keptRows);
      return {
        scoreBins,
        topQuarantined: top.slice(0, thumbnails).map(({ row, pixels }) => thumbnail(row, pixels, shape)),
        trigger,
      };
    },
  };
}

/**
 * The label whose quarantined rows the trigger view compares with its kept rows: the suspected target
 * class, or else the label most quarantined rows carry (null when nothing was quarantined).
 *
 * @param suspected - the suspected target class, if any.
 * @param quarantinedPerClass - quarantined rows per label (index = label).
 * @returns the label, or null.
 */
export function triggerLabel(
  suspected: number | null,
  quarantinedPerClass: readonly number[],
): number | null {
  if (suspected !== null) return suspected;
  let best: number | null = null;
  quarantinedPerClass.forEach((count, label) => {
    if (count > 0 && (best === null || count > (quarantinedPerClass[best] as number))) best = label;
  });
  return best;
}

/**
 * Equal-width bins over the range of all scores, counting quarantined and kept rows separately.
 * Infinite or NaN scores are left out (a loss floor keeps them from occurring in practice).
 *
 * @param scores - every row's score.
 * @param quarantined - whether each row was quarantined.
 * @param bins - how many bins.
 * @returns the bins, empty when no score is finite.
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

function thumbnail(row: FigureRow, pixels: Uint8Array, shape: ReportImageShape): ReportThumbnail {
  return {
    id: row.id,
    label: row.label,
    rank: row.rank,
    score: Number.isFinite(row.score) ? row.score : null,
    poisoned: row.poisoned,
    image: imageDataUri(pixels, shape, MAX_EMBEDDED_SIDE),
  };
}

function triggerView(
  label: number,
  shape: ReportImageShape,
  quarantinedSum: Float64Array,
  quarantinedRows: number,
  keptSum: Float64Array,
  keptRows: number,
): ReportTriggerView {
  const quarantinedMean = Float32Array.from(quarantinedSum, (v) => v / quarantinedRows);
  const keptMean = Float32Array.from(keptSum, (v) => v / keptRows);
  return {
    label,
    quarantinedRows,
    keptRows,
    imageShape: shape,
    quarantinedMean: imageDataUri(quarantinedMean, shape, MAX_EMBEDDED_SIDE),
    keptMean: imageDataUri(keptMean, shape, MAX_EMBEDDED_SIDE),
    heatmap: heatmap(quarantinedMean, keptMean, shape),
  };
}

/** Quarantined minus kept mean, averaged over channels, block-averaged down to the heat map's size. */
function heatmap(
  quarantinedMean: Float32Array,
  keptMean: Float32Array,
  shape: ReportImageShape,
): ReportTriggerView['heatmap'] {
  const difference = Float32Array.from(quarantinedMean, (q, p) => q - (keptMean[p] as number));
  const small = blockAverage(difference, shape, shrinkFactor(shape, MAX_HEATMAP_SIDE));
  const { height, width, channels } = small.shape;
  const values: number[] = [];
  for (let p = 0; p < height * width; p++) {
    // Every channel's block holds as many pixels, so the mean of the channel means is the block's mean.
    let sum = 0;
    for (let ch = 0; ch < channels; ch++) sum += small.pixels[p * channels + ch] as number;
    values.push(Math.round((sum / channels) * 10) / 10);
  }
  return { height, width, values };
}

function accumulate(sum: Float64Array, pixels: Uint8Array): void {
  for (let p = 0; p < pixels.length; p++) sum[p] = (sum[p] as number) + (pixels[p] as number);
}
