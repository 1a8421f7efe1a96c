import { formatShape, type ImageShape } from '../data/imageShape.js';
import { DataError, ErrorCode, UsageError } from '../errors.js';

/**
 * The contract shared by every backdoor-trigger simulator of the red-team `poison` command, plus the
 * small placement and image types they have in common.
 */

/**
 * Every attack abl-audit can simulate, in the order error messages and help text list them.
 *
 * <span class="informal">{@link AttackName} is derived from this list, so the type and the runtime
 * list cannot drift apart.</span>
 */
export const ATTACK_NAMES = ['badnets', 'blend', 'sig', 'trojan', 'wanet'] as const;

/**
 * Name of an attack, as written on the command line and in reports:
 * `'badnets' | 'blend' | 'sig' | 'trojan' | 'wanet'`.
 */
export type AttackName = (typeof ATTACK_NAMES)[number];

/**
 * A backdoor trigger: stamps one image, returning a new image of the same shape.
 *
 * <span class="informal">A trigger never changes the image it is given, so the clean copy of a row stays
 * available for comparison; only the poisoning step decides which rows get triggered and relabelled.</span>
 */
export interface Trigger {
  /** The attack this trigger simulates. */
  readonly name: AttackName;
  /**
   * True when poisoned rows keep their true label (SIG, WaNet's noise mode); false when the attack
   * relabels them to the target class.
   */
  readonly cleanLabel: boolean;
  /**
   * Applies the trigger to one image.
   *
   * @param image - H×W×C uint8 pixels, row-major HWC (index = (y·W + x)·C + c); not modified.
   * @param shape - the image's height, width and channels.
   * @returns a new array of the same length holding the triggered image.
   */
  apply(image: Uint8Array, shape: ImageShape): Uint8Array;
}

/** The corners a patch may be placed in, in the order error messages list them. */
export const CORNERS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'] as const;

/**
 * A corner of the image, for placing a patch trigger:
 * `'bottom-right' | 'bottom-left' | 'top-right' | 'top-left'`.
 */
export type Corner = (typeof CORNERS)[number];

/**
 * Where a patch goes: a {@link Corner}, or the pixel at which the patch's top-left cell lands
 * (`x` = column, `y` = row, both zero-based).
 */
export type PatchPosition = Corner | { readonly x: number; readonly y: number };

/** A small user-supplied image (a patch or a blend pattern): uint8 pixels in row-major HWC order. */
export interface PatchImage {
  readonly pixels: Uint8Array;
  readonly shape: ImageShape;
}

/**
 * Checks that an image handed to a trigger has positive integer dimensions and exactly H·W·C bytes.
 *
 * <span class="informal">Every trigger indexes pixels by the shape it is told, so a mismatch would
 * silently stamp the wrong pixels; failing loudly is the only safe answer.</span>
 *
 * @example
 * ```ts
 * checkImage(new Uint8Array(784), { height: 28, width: 28, channels: 1 }); // passes
 * ```
 * @param image - the pixels to check.
 * @param shape - the shape they are claimed to have.
 * @returns nothing; it throws on a mismatch.
 * @throws UsageError when a dimension is not a positive integer; DataError (BadImage) when the byte count
 *   differs from H·W·C.
 * @see Trigger
 */
export function checkImage(image: Uint8Array, shape: ImageShape): void {
  checkShape(shape, 'image shape');
  const expected = shape.height * shape.width * shape.channels;
  if (image.length !== expected) {
    throw new DataError(
      ErrorCode.BadImage,
      `image has ${image.length} bytes; shape ${formatShape(shape)} needs ${expected}`,
    );
  }
}

/**
 * Checks the pixels and shape of a user-supplied patch or pattern.
 *
 * <span class="informal">Called when a trigger is built, so a bad patch is reported before any image is
 * touched.</span>
 *
 * @example
 * ```ts
 * checkPatchImage({ pixels: new Uint8Array(9), shape: { height: 3, width: 3, channels: 1 } }, 'badnets patch');
 * ```
 * @param patch - the patch to check.
 * @param what - how to name it in the error message, e.g. `'blend pattern'`.
 * @returns nothing; it throws when the patch is malformed.
 * @throws UsageError when a dimension is not a positive integer or the byte count differs from H·W·C.
 * @see checkImage
 */
export function checkPatchImage(patch: PatchImage, what: string): void {
  checkShape(patch.shape, `${what} shape`);
  const expected = patch.shape.height * patch.shape.width * patch.shape.channels;
  if (patch.pixels.length !== expected) {
    throw new UsageError(
      `${what} has ${patch.pixels.length} bytes; expected ${expected} for its shape ${formatShape(patch.shape)}`,
    );
  }
}

function checkShape(shape: ImageShape, what: string): void {
  const dims = [shape.height, shape.width, shape.channels];
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new UsageError(`bad ${what} ${dims.join('x')}: expected positive integers HxWxC`);
  }
}
