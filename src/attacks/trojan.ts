import type { ImageShape } from '../data/imageShape.js';
import { checkPlacement, patchOrigin } from './badnets.js';
import { checkImage, type PatchPosition, type Trigger } from './types.js';

/** Options of {@link trojanTrigger}. */
export interface TrojanTriggerOptions {
  /** A corner (default `'bottom-right'`) or the pixel `{x, y}` where the pattern's top-left cell lands. */
  readonly position?: PatchPosition | undefined;
  /** Pixels between the pattern and the image's edges at a corner, an integer ≥ 0 (default 1). Corners only. */
  readonly margin?: number | undefined;
}

/** The Trojan-style offsets, rows top to bottom: a ±160 checkerboard, positive at the corners and centre. */
const OFFSETS: readonly number[] = [160, -160, 160, -160, 160, -160, 160, -160, 160];
const SIDE = 3;

/**
 * Makes a Trojan-style patch trigger, as in the ABL reference code: a fixed 3×3 pattern added to the
 * image, not pasted over it.
 *
 * <span class="informal">The offsets `[[+160,−160,+160],[−160,+160,−160],[+160,−160,+160]]` are added to
 * every channel of the covered pixels and the sum is clipped to 0..255, so 200 + 160 gives 255 and
 * 50 − 160 gives 0. (The reference casts to uint8 before clipping, which wraps 200 + 160 round to 104;
 * that is a bug we do not copy.) By default the pattern sits one pixel in from the bottom-right
 * corner.</span>
 *
 * @example
 * ```ts
 * const trigger = trojanTrigger({ position: 'top-left' });
 * const poisoned = trigger.apply(image, { height: 28, width: 28, channels: 1 });
 * ```
 * @param options - the position and the margin at a corner.
 * @returns a dirty-label {@link Trigger} named `'trojan'`.
 * @throws UsageError when the margin is negative or given with an explicit position, or the position is
 *   not a corner or a pair of non-negative integers; at `apply`, when the 3×3 pattern (plus margin) does
 *   not fit in the image.
 * @see badnetsTrigger
 */
export function trojanTrigger(options: TrojanTriggerOptions = {}): Trigger {
  const position = options.position ?? 'bottom-right';
  const margin = options.margin ?? 1;
  checkPlacement(position, options.margin, 'trojan');
  return {
    name: 'trojan',
    cleanLabel: false,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      const { x: x0, y: y0 } = patchOrigin(SIDE, SIDE, shape, position, margin, 'trojan pattern');
      const out = image.slice();
      const c = shape.channels;
      for (let y = 0; y < SIDE; y++) {
        for (let x = 0; x < SIDE; x++) {
          const offset = OFFSETS[y * SIDE + x] as number;
          const base = ((y0 + y) * shape.width + x0 + x) * c;
          for (let k = base; k < base + c; k++) {
            // Summed in a plain number and clipped before storing: a Uint8Array store would wrap.
            const v = (image[k] as number) + offset;
            out[k] = Math.min(Math.max(v, 0), 255);
          }
        }
      }
      return out;
    },
  };
}
