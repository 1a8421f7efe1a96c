import { UsageError } from '../errors.js';

/** Height × width × channels of one image, stored row-major HWC. */
export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Schema metadata key under which abl-audit records the shape of raw image bytes, e.g. `"28,28,1"`. */
export const IMAGE_SHAPE_METADATA_KEY = 'abl_audit.image_shape';
/** Schema metadata key holding the class names as a JSON array of strings, index = label. */
export const CLASS_NAMES_METADATA_KEY = 'abl_audit.class_names';

/** Bytes in one image of this shape. */
export function imageSize(shape: ImageShape): number {
  return shape.height * shape.width * shape.channels;
}

/** `28x28x1`: how shapes are written in messages and flags. */
export function formatShape(shape: ImageShape): string {
  return `${shape.height}x${shape.width}x${shape.channels}`;
}

export function sameShape(a: ImageShape, b: ImageShape): boolean {
  return a.height === b.height && a.width === b.width && a.channels === b.channels;
}

/**
 * Parses `HxWxC`, `HxW` (one channel) or `H,W,C`, as given on the command line or in metadata.
 * @throws UsageError naming what was expected.
 */
export function parseShape(text: string, what = 'image shape'): ImageShape {
  const parts = text
    .trim()
    .split(/[x,×]/i)
    .map((p) => p.trim());
  const nums = parts.map(Number);
  if ((nums.length !== 2 && nums.length !== 3) || nums.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new UsageError(
      `bad ${what} '${text}': expected HxWxC with positive integers, e.g. 28x28x1 or 32x32x3`,
    );
  }
  return { height: nums[0] as number, width: nums[1] as number, channels: (nums[2] ?? 1) as number };
}

/**
 * Guesses the shape of a square image from its byte count: 1 channel when the count is a perfect square,
 * else 3 channels when a third of it is. (Both cannot hold at once, since √3 is irrational; 4-channel
 * data is taken as 1-channel and needs an explicit shape.)
 *
 * @returns the shape, or null when neither fits.
 */
export function guessSquareShape(bytes: number): ImageShape | null {
  const side1 = Math.round(Math.sqrt(bytes));
  if (side1 > 0 && side1 * side1 === bytes) return { height: side1, width: side1, channels: 1 };
  if (bytes % 3 === 0) {
    const side3 = Math.round(Math.sqrt(bytes / 3));
    if (side3 > 0 && side3 * side3 * 3 === bytes) return { height: side3, width: side3, channels: 3 };
  }
  return null;
}
