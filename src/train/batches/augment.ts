import type { ImageShape } from '../../data/imageShape.js';
import { imageSize } from '../../data/imageShape.js';
import { UsageError } from '../../errors.js';
import { type Rng, randomInt } from '../../util/random.js';

/**
 * Training-time augmentation of uint8 HWC images: a random crop of the zero-padded image back to H×W
 * (the CIFAR recipe: pad 4, crop 32×32) and a random horizontal flip. Pure functions; the randomness
 * comes in as an {@link AugmentDraw} from a seeded {@link Rng}.
 */

/** Which augmentations to apply, and how strongly. */
export interface AugmentOptions {
  /**
   * Zero padding on every side before the random crop back to H×W; 0 turns cropping off. Defaults to
   * {@link defaultPadding} (4 for 28×28 and 32×32 images).
   */
  readonly padding?: number;
  /** Flip horizontally with probability ½. Defaults to true. */
  readonly flip?: boolean;
}

/**
 * What a stage is asked to do: `false` nothing, `true` the defaults, `'auto'` the defaults for
 * 3-channel (colour) images and nothing otherwise, or explicit {@link AugmentOptions}.
 */
export type AugmentSetting = boolean | 'auto' | AugmentOptions;

/** Augmentation resolved for one image shape: every option decided. */
export interface Augmentation {
  readonly padding: number;
  readonly flip: boolean;
}

/** The random choices for one image. */
export interface AugmentDraw {
  /** Vertical shift in -padding..padding: output row y shows input row y + dy (crop top = padding + dy). */
  readonly dy: number;
  /** Horizontal shift in -padding..padding: output column x shows column x + dx before any flip. */
  readonly dx: number;
  /** Mirror left-right after the crop. */
  readonly flip: boolean;
}

/**
 * The default crop padding for an image shape: an eighth of the shorter side, rounded (4 for 28×28 and
 * 32×32, as in the usual CIFAR and Fashion-MNIST recipes), at least 1.
 *
 * @example
 * ```ts
 * defaultPadding({ height: 32, width: 32, channels: 3 }); // 4
 * ```
 * @param shape - the images' shape.
 * @returns the padding in pixels.
 * @see resolveAugment
 */
export function defaultPadding(shape: ImageShape): number {
  return Math.max(1, Math.round(Math.min(shape.height, shape.width) / 8));
}

/**
 * Decides the augmentation for images of one shape.
 *
 * <span class="informal">Grey (1-channel) data such as Fashion-MNIST is usually trained without
 * augmentation, colour data such as CIFAR with crop and flip, so `'auto'` follows the channel
 * count.</span>
 *
 * @example
 * ```ts
 * resolveAugment('auto', { height: 32, width: 32, channels: 3 }); // { padding: 4, flip: true }
 * resolveAugment('auto', { height: 28, width: 28, channels: 1 }); // null
 * ```
 * @param setting - what was asked for; undefined means `false`.
 * @param shape - the images' shape.
 * @returns the augmentation, or null when nothing is to be done.
 * @throws UsageError when the padding is not a non-negative integer.
 * @see drawAugment
 */
export function resolveAugment(setting: AugmentSetting | undefined, shape: ImageShape): Augmentation | null {
  if (setting === undefined || setting === false) return null;
  if (setting === 'auto' && shape.channels !== 3) return null;
  const options: AugmentOptions = typeof setting === 'object' ? setting : {};
  const padding = options.padding ?? defaultPadding(shape);
  checkPadding(padding);
  const flip = options.flip ?? true;
  return padding === 0 && !flip ? null : { padding, flip };
}

/**
 * Checks an augmentation setting without an image shape, so that stages can reject a bad one when they
 * are built rather than at the first batch.
 *
 * @example
 * ```ts
 * checkAugmentSetting({ padding: -1 }); // throws UsageError
 * ```
 * @param setting - what was asked for.
 * @throws UsageError when it is not false, true, 'auto' or options with a non-negative integer padding.
 * @see resolveAugment
 */
export function checkAugmentSetting(setting: AugmentSetting | undefined): void {
  if (setting === undefined || typeof setting === 'boolean' || setting === 'auto') return;
  if (typeof setting !== 'object' || setting === null) {
    throw new UsageError(`augment must be true, false, 'auto' or { padding, flip }, got ${String(setting)}`);
  }
  if (setting.padding !== undefined) checkPadding(setting.padding);
}

function checkPadding(padding: number): void {
  if (!Number.isSafeInteger(padding) || padding < 0) {
    throw new UsageError(`augment padding must be a non-negative integer, got ${padding}`);
  }
}

/**
 * Draws the random choices for one image: a shift uniform in -padding..padding on each axis (that is,
 * a crop position uniform over the (2p+1)² positions in the padded image) and a fair coin for the flip.
 *
 * @example
 * ```ts
 * const draw = drawAugment(mulberry32(1), { padding: 4, flip: true });
 * ```
 * @param rng - the source of randomness; three draws when flipping, two otherwise.
 * @param augmentation - the resolved augmentation.
 * @returns the draw.
 * @see augmentImage
 */
export function drawAugment(rng: Rng, augmentation: Augmentation): AugmentDraw {
  const p = augmentation.padding;
  const dy = p === 0 ? 0 : randomInt(rng, 2 * p + 1) - p;
  const dx = p === 0 ? 0 : randomInt(rng, 2 * p + 1) - p;
  const flip = augmentation.flip && randomInt(rng, 2) === 1;
  return { dy, dx, flip };
}

/**
 * Applies one draw to one uint8 HWC image: shift by (dy, dx) with zeros shifted in (the same as
 * cropping the zero-padded image at (padding + dy, padding + dx)), then mirror left-right if asked.
 *
 * <span class="informal">Output pixel (y, x) is input pixel (y + dy, x' + dx), x' = W-1-x when
 * flipping and x otherwise, or 0 when that falls outside the image.</span>
 *
 * @example
 * ```ts
 * // 1×3 grey image [1, 2, 3], shifted one column right (dx = -1) and not flipped: [0, 1, 2]
 * augmentImage(Uint8Array.of(1, 2, 3), { height: 1, width: 3, channels: 1 }, { dy: 0, dx: -1, flip: false });
 * ```
 * @param src - `H × W × C` bytes.
 * @param shape - the image's shape.
 * @param draw - the shift and flip.
 * @param out - where to write (defaults to a new array); must not overlap `src`.
 * @param outOffset - byte offset in `out` of the image, for writing straight into a batch.
 * @returns `out`.
 * @see drawAugment
 */
export function augmentImage(
  src: Uint8Array,
  shape: ImageShape,
  draw: AugmentDraw,
  out: Uint8Array = new Uint8Array(imageSize(shape)),
  outOffset = 0,
): Uint8Array {
  const { height: h, width: w, channels: c } = shape;
  const rowBytes = w * c;
  const { dy, dx, flip } = draw;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    const dst = outOffset + y * rowBytes;
    if (sy < 0 || sy >= h) {
      out.fill(0, dst, dst + rowBytes);
      continue;
    }
    const srcRow = sy * rowBytes;
    if (!flip) {
      // Unflipped, a row is one contiguous copy between two runs of zeros.
      const x0 = Math.max(0, -dx);
      const x1 = Math.min(w, w - dx);
      if (x1 <= x0) {
        out.fill(0, dst, dst + rowBytes);
        continue;
      }
      out.fill(0, dst, dst + x0 * c);
      out.set(src.subarray(srcRow + (x0 + dx) * c, srcRow + (x1 + dx) * c), dst + x0 * c);
      out.fill(0, dst + x1 * c, dst + rowBytes);
      continue;
    }
    for (let x = 0; x < w; x++) {
      const sx = w - 1 - x + dx;
      const o = dst + x * c;
      if (sx < 0 || sx >= w) {
        out.fill(0, o, o + c);
      } else {
        const s = srcRow + sx * c;
        for (let k = 0; k < c; k++) out[o + k] = src[s + k] as number;
      }
    }
  }
  return out;
}
