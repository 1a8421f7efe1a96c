import { formatShape, type ImageShape } from '../data/imageShape.js';
import { UsageError } from '../errors.js';
import {
  CORNERS,
  type Corner,
  checkImage,
  checkPatchImage,
  type PatchImage,
  type PatchPosition,
  type Trigger,
} from './types.js';

/** Options of {@link badnetsTrigger}. */
export interface BadnetsTriggerOptions {
  /**
   * The patch: `'grid'` (default), the fixed 3×3 pattern
   * `[[255,0,255],[0,255,0],[255,0,255]]`; `'square'`, an all-255 square of side `size`; or a
   * user-supplied {@link PatchImage}.
   */
  readonly patch?: 'grid' | 'square' | PatchImage | undefined;
  /** Side of the `'square'` patch in pixels, an integer ≥ 1 (default 3). Only allowed with `'square'`. */
  readonly size?: number | undefined;
  /** A corner (default `'bottom-right'`) or the pixel `{x, y}` where the patch's top-left cell lands. */
  readonly position?: PatchPosition | undefined;
  /** Pixels between the patch and the image's edges at a corner, an integer ≥ 0 (default 0). Corners only. */
  readonly margin?: number | undefined;
}

/** The BadNets grid: a 3×3 checkerboard, white at the corners and centre. */
const GRID: readonly number[] = [255, 0, 255, 0, 255, 0, 255, 0, 255];

/**
 * Makes a BadNets trigger (Gu et al., 2017): a small patch pasted over the image.
 *
 * <span class="informal">The patch replaces the pixels it covers in every channel; the rest of the image
 * is copied unchanged. By default it is the fixed 3×3 grid `[[255,0,255],[0,255,0],[255,0,255]]`
 * (rows top to bottom) in the bottom-right corner, touching the edges, as in the ABL reference code.
 * A grey patch on an RGB image is copied to all three channels; an RGB patch on a grey image is
 * converted to luminance, round(0.299·R + 0.587·G + 0.114·B).</span>
 *
 * @example
 * ```ts
 * const trigger = badnetsTrigger({ patch: 'square', size: 4, position: 'top-left', margin: 1 });
 * const poisoned = trigger.apply(image, { height: 28, width: 28, channels: 1 });
 * ```
 * @param options - the patch, its size (square only), its position and the margin at a corner.
 * @returns a dirty-label {@link Trigger} named `'badnets'`.
 * @throws UsageError when `size` < 1 or is given for a patch other than `'square'`, the margin is
 *   negative, the position is not a corner or a pair of non-negative integers, or the patch image is
 *   malformed; at `apply`, when the patch (plus margin) is larger than the image or does not fit at the
 *   given position, or its channels cannot be matched to the image's.
 * @see trojanTrigger
 */
export function badnetsTrigger(options: BadnetsTriggerOptions = {}): Trigger {
  const patch = buildPatch(options);
  const position = options.position ?? 'bottom-right';
  const margin = options.margin ?? 0;
  checkPlacement(position, options.margin, 'badnets');
  // A converted patch depends only on the image's channel count, so it is made once per count.
  const byChannels = new Map<number, Uint8Array>();
  return {
    name: 'badnets',
    cleanLabel: false,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      let pixels = byChannels.get(shape.channels);
      if (pixels === undefined) {
        pixels = patchToChannels(patch, shape.channels, 'badnets patch');
        byChannels.set(shape.channels, pixels);
      }
      const ph = patch.shape.height;
      const pw = patch.shape.width;
      const { x: x0, y: y0 } = patchOrigin(ph, pw, shape, position, margin, 'badnets patch');
      const out = image.slice();
      const c = shape.channels;
      for (let y = 0; y < ph; y++) {
        const from = y * pw * c;
        out.set(pixels.subarray(from, from + pw * c), ((y0 + y) * shape.width + x0) * c);
      }
      return out;
    },
  };
}

function buildPatch(options: BadnetsTriggerOptions): PatchImage {
  const patch = options.patch ?? 'grid';
  if (options.size !== undefined) {
    if (patch !== 'square') {
      throw new UsageError(`badnets size applies only to the 'square' patch; leave it out for this patch`);
    }
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new UsageError(`badnets square size must be an integer ≥ 1, got ${options.size}`);
    }
  }
  if (patch === 'grid') {
    return { pixels: Uint8Array.from(GRID), shape: { height: 3, width: 3, channels: 1 } };
  }
  if (patch === 'square') {
    const size = options.size ?? 3;
    return {
      pixels: new Uint8Array(size * size).fill(255),
      shape: { height: size, width: size, channels: 1 },
    };
  }
  if (typeof patch !== 'object' || patch === null) {
    throw new UsageError(`unknown badnets patch '${String(patch)}'; expected 'grid', 'square' or an image`);
  }
  checkPatchImage(patch, 'badnets patch');
  // Copied so that a caller reusing its buffer cannot change the trigger after it was built.
  return { pixels: patch.pixels.slice(), shape: { ...patch.shape } };
}

/**
 * Checks a patch position and margin when a trigger is built, before any image is seen.
 *
 * <span class="informal">Shared by the patch attacks (BadNets, Trojan) so that they accept and reject
 * the same placements with the same messages.</span>
 *
 * @example
 * ```ts
 * checkPlacement('top-left', 2, 'trojan'); // passes
 * checkPlacement({ x: 1, y: 1 }, 2, 'trojan'); // throws: a margin only applies at a corner
 * ```
 * @param position - a corner or an explicit `{x, y}`.
 * @param margin - the margin the user gave, or undefined when they gave none.
 * @param attack - the attack's name, for error messages.
 * @returns nothing; it throws on a bad placement.
 * @throws UsageError when the corner is unknown, x or y is not a non-negative integer, the margin is not a
 *   non-negative integer, or a margin is given with an explicit position.
 * @see patchOrigin
 */
export function checkPlacement(position: PatchPosition, margin: number | undefined, attack: string): void {
  if (margin !== undefined && (!Number.isInteger(margin) || margin < 0)) {
    throw new UsageError(`${attack} margin must be an integer ≥ 0, got ${margin}`);
  }
  if (typeof position === 'string') {
    if (!(CORNERS as readonly string[]).includes(position)) {
      throw new UsageError(
        `unknown ${attack} position '${position}'; expected one of ${CORNERS.join(', ')} or {x, y}`,
      );
    }
    return;
  }
  const { x, y } = position;
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0) {
    throw new UsageError(`${attack} position {x: ${x}, y: ${y}} must be two integers ≥ 0 (column, row)`);
  }
  if (margin !== undefined) {
    // An explicit position already says exactly where the patch goes; silently ignoring a margin would
    // put the patch somewhere the user did not expect.
    throw new UsageError(`${attack} margin applies only at a corner; leave it out with an explicit {x, y}`);
  }
}

/**
 * Where a patch's top-left cell lands in an image, checking that the whole patch fits.
 *
 * <span class="informal">At a corner the patch sits `margin` pixels in from the two edges of that
 * corner; at an explicit `{x, y}` it starts there.</span>
 *
 * @example
 * ```ts
 * patchOrigin(3, 3, { height: 5, width: 5, channels: 1 }, 'bottom-right', 0, 'badnets patch'); // {x: 2, y: 2}
 * ```
 * @param patchHeight - rows of the patch.
 * @param patchWidth - columns of the patch.
 * @param shape - the image's shape.
 * @param position - a corner or an explicit `{x, y}` (already checked by {@link checkPlacement}).
 * @param margin - the margin at a corner, ignored for an explicit position.
 * @param what - how to name the patch in error messages.
 * @returns the column `x` and row `y` of the patch's top-left cell.
 * @throws UsageError when the patch, with its margin, is larger than the image or runs past its edge.
 * @see checkPlacement
 */
export function patchOrigin(
  patchHeight: number,
  patchWidth: number,
  shape: ImageShape,
  position: PatchPosition,
  margin: number,
  what: string,
): { x: number; y: number } {
  const size = `${patchHeight}x${patchWidth}`;
  if (patchHeight > shape.height || patchWidth > shape.width) {
    throw new UsageError(`${what} (${size}) is larger than the ${formatShape(shape)} image`);
  }
  if (typeof position !== 'string') {
    if (position.x + patchWidth > shape.width || position.y + patchHeight > shape.height) {
      throw new UsageError(
        `${what} (${size}) at {x: ${position.x}, y: ${position.y}} runs past the edge of the ` +
          `${formatShape(shape)} image; expected x ≤ ${shape.width - patchWidth} and y ≤ ${shape.height - patchHeight}`,
      );
    }
    return { x: position.x, y: position.y };
  }
  if (patchHeight + margin > shape.height || patchWidth + margin > shape.width) {
    throw new UsageError(
      `${what} (${size}) with margin ${margin} does not fit in the ${formatShape(shape)} image; ` +
        `expected a margin ≤ ${Math.min(shape.height - patchHeight, shape.width - patchWidth)}`,
    );
  }
  const corner: Corner = position;
  const x = corner.endsWith('right') ? shape.width - patchWidth - margin : margin;
  const y = corner.startsWith('bottom') ? shape.height - patchHeight - margin : margin;
  return { x, y };
}

/**
 * Converts a patch's pixels to an image's channel count.
 *
 * <span class="informal">Same count: unchanged. Grey patch: its value is copied to every channel. RGB
 * patch on a grey image: luminance, round(0.299·R + 0.587·G + 0.114·B) (ITU-R BT.601, the weights
 * PIL's `convert('L')` uses). Any other pairing has no obvious meaning and is refused.</span>
 *
 * @example
 * ```ts
 * patchToChannels({ pixels: Uint8Array.of(10), shape: { height: 1, width: 1, channels: 1 } }, 3, 'patch'); // [10, 10, 10]
 * ```
 * @param patch - the patch (already checked by `checkPatchImage`).
 * @param channels - the image's channel count.
 * @param what - how to name the patch in error messages.
 * @returns the patch's pixels with `channels` values per pixel (a new array, or the patch's own when the
 *   counts already match).
 * @throws UsageError when the channel counts differ and neither rule above applies.
 * @see badnetsTrigger
 */
export function patchToChannels(patch: PatchImage, channels: number, what: string): Uint8Array {
  const from = patch.shape.channels;
  if (from === channels) return patch.pixels;
  const n = patch.shape.height * patch.shape.width;
  if (from === 1) {
    const out = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) out.fill(patch.pixels[i] as number, i * channels, (i + 1) * channels);
    return out;
  }
  if (from === 3 && channels === 1) {
    const out = new Uint8Array(n);
    const p = patch.pixels;
    for (let i = 0; i < n; i++) {
      const r = p[3 * i] as number;
      const g = p[3 * i + 1] as number;
      const b = p[3 * i + 2] as number;
      out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
    return out;
  }
  throw new UsageError(
    `${what} has ${from} channels but the image has ${channels}; expected the same count, a 1-channel ` +
      'patch, or a 3-channel patch on a 1-channel image',
  );
}
