import { imageSize } from '../data/imageShape.js';
import type { TrainBatch } from '../train/types.js';

/** The other classes' 5th-percentile distance must be at least this many times the isolated rows' 90th. */
const SEPARATION = 4;
/** A patch covers at most this share of the image; a larger "pattern" is a class's shape, not a trigger. */
const MAX_PATCH_SHARE = 0.05;

/** What the isolated rows have in common that rows of other classes do not: a patch trigger's pixels. */
export interface TriggerPattern {
  /** Indices (into H×W×C) of the pixels the isolated rows share. */
  readonly pixels: readonly number[];
  /** The isolated rows' mean value at each of those pixels. */
  readonly values: readonly number[];
  /** A row whose mean absolute difference from `values` on `pixels` is at most this carries the pattern. */
  readonly threshold: number;
}

/**
 * Finds a pixel pattern the isolated rows share, if they share one: pixels where they agree with each
 * other (low spread) and differ from rows of other classes. A patch trigger (BadNets, Trojan) is such a
 * pattern; a blend or warp is not, and then the result is null.
 *
 * <span class="informal">Each pixel scores `|mean_isolated − mean_other| / (sd_isolated + 8)`; pixels
 * scoring at least half the best form the pattern, which must cover at most 5% of the image. A row's distance to it is its mean absolute
 * difference from the isolated mean on those pixels; the threshold lies halfway between the isolated
 * rows' 90th percentile and the other classes' 5th percentile, and the pattern is kept only when the
 * second is at least 4 times the first (the pattern separates clearly).</span>
 *
 * @param isolated - the isolated rows.
 * @param others - rows of the classes other than the suspected target (free of this attack's poison).
 * @returns the pattern, or null when the isolated rows share none that separates them.
 */
export function findTriggerPattern(isolated: TrainBatch, others: TrainBatch): TriggerPattern | null {
  const n = isolated.ids.length;
  const m = others.ids.length;
  const size = imageSize(isolated.shape);
  if (n < 2 || m < 2 || imageSize(others.shape) !== size) return null;
  const mean = new Float64Array(size);
  const sq = new Float64Array(size);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < size; p++) {
      const v = isolated.images[r * size + p] as number;
      mean[p] = (mean[p] as number) + v;
      sq[p] = (sq[p] as number) + v * v;
    }
  }
  const otherMean = new Float64Array(size);
  for (let r = 0; r < m; r++) {
    for (let p = 0; p < size; p++)
      otherMean[p] = (otherMean[p] as number) + (others.images[r * size + p] as number);
  }
  const score = new Float64Array(size);
  let best = 0;
  for (let p = 0; p < size; p++) {
    const mu = (mean[p] as number) / n;
    mean[p] = mu;
    const sd = Math.sqrt(Math.max(0, (sq[p] as number) / n - mu * mu));
    score[p] = Math.abs(mu - (otherMean[p] as number) / m) / (sd + 8);
    best = Math.max(best, score[p] as number);
  }
  if (best <= 0) return null;
  const pixels: number[] = [];
  for (let p = 0; p < size; p++) if ((score[p] as number) >= best / 2) pixels.push(p);
  if (pixels.length > MAX_PATCH_SHARE * size) return null;
  const values = pixels.map((p) => mean[p] as number);
  const pattern = { pixels, values, threshold: 0 };
  const inIsolated = patternDistances(pattern, isolated).sort((a, b) => a - b);
  const inOthers = patternDistances(pattern, others).sort((a, b) => a - b);
  const high = inIsolated[Math.floor(0.9 * (n - 1))] as number;
  const low = inOthers[Math.floor(0.05 * (m - 1))] as number;
  // A pasted patch is near-identical on every poisoned row; demand a wide margin, so that a texture the
  // isolated rows merely tend to share (WaNet's warped edges, a class's typical shape) is not taken for one.
  if (!(high * SEPARATION <= low)) return null;
  return { ...pattern, threshold: (high + low) / 2 };
}

/**
 * Each row's distance to a pattern: the mean absolute difference from its values on its pixels.
 *
 * @param pattern - the pixels and values.
 * @param batch - the rows.
 * @returns one distance per row.
 */
export function patternDistances(
  pattern: Pick<TriggerPattern, 'pixels' | 'values'>,
  batch: TrainBatch,
): number[] {
  const size = imageSize(batch.shape);
  const k = pattern.pixels.length;
  return batch.ids.map((_, r) => {
    let d = 0;
    for (let j = 0; j < k; j++) {
      d += Math.abs(
        (batch.images[r * size + (pattern.pixels[j] as number)] as number) - (pattern.values[j] as number),
      );
    }
    return d / k;
  });
}
