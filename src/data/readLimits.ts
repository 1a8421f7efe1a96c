/**
 * Limits on what a dataset may hold, checked while it is read so that one stray value cannot exhaust
 * memory: a label of 1,000,000 would otherwise build a model with a million outputs, and a PNG that
 * declares 20000×20000 pixels would be decoded before its size was seen.
 */

/** Labels must be below this unless the data's class names or `--num-classes` say otherwise. */
export const DEFAULT_MAX_CLASSES = 1000;

/** Images may hold at most this many pixels (2048 × 2048) unless `--max-image-pixels` raises it. */
export const DEFAULT_MAX_IMAGE_PIXELS = 2048 * 2048;

/**
 * The most `--max-image-pixels` may allow (16384 × 16384): a batch of larger images cannot be held in
 * one typed array.
 */
export const MAX_IMAGE_PIXELS_CEILING = 16384 * 16384;

/** Fewer rows than this cannot be audited: too few to isolate, hold out and measure anything. */
export const MIN_AUDIT_ROWS = 100;
