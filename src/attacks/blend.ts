import { formatShape, type ImageShape } from '../data/imageShape.js';
import { UsageError } from '../errors.js';
import { mulberry32, randomInt } from '../util/random.js';
import { patchToChannels } from './badnets.js';
import { checkImage, checkPatchImage, type PatchImage, type Trigger } from './types.js';

/** Options of {@link blendTrigger}. */
export interface BlendTriggerOptions {
  /** Weight of the pattern, in (0, 1] (default 0.2, as in the ABL reference: 0.8·x + 0.2·pattern). */
  readonly alpha?: number | undefined;
  /**
   * The pattern to blend in, with the images' height and width and either their channel count or one
   * channel (then copied to every channel). Default: uniform random noise drawn from `seed`.
   */
  readonly pattern?: PatchImage | undefined;
  /** Seed of the default noise pattern (unused when `pattern` is given). */
  readonly seed: number;
}

/**
 * Makes a Blended trigger (Chen et al., 2017): a fixed pattern mixed into the whole image.
 *
 * <span class="informal">Each value becomes Math.round((1 − α)·x + α·p), the rounding applied to the
 * floating-point result (so an exact half rounds up). Without a `pattern`, the pattern is uniform noise,
 * integers 0..255, drawn once per image shape from `mulberry32(seed)` in HWC order and then reused, so
 * every image of a shape gets the same noise: a fixed trigger, not per-image augmentation.</span>
 *
 * @example
 * ```ts
 * const trigger = blendTrigger({ alpha: 0.2, seed: 7 });
 * const poisoned = trigger.apply(image, { height: 32, width: 32, channels: 3 });
 * ```
 * @param options - the blend weight, the pattern (or the seed of the default noise pattern).
 * @returns a dirty-label {@link Trigger} named `'blend'`.
 * @throws UsageError when α is outside (0, 1], the seed is not an integer, or the pattern is malformed;
 *   at `apply`, when the pattern's height or width differ from the image's, or its channel count is
 *   neither the image's nor 1.
 * @see sigTrigger
 */
export function blendTrigger(options: BlendTriggerOptions): Trigger {
  const alpha = options.alpha ?? 0.2;
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 1)) {
    throw new UsageError(`blend alpha must be a number in (0, 1], got ${alpha}`);
  }
  const given = options.pattern;
  if (given !== undefined) checkPatchImage(given, 'blend pattern');
  else mulberry32(options.seed); // fails now, not at the first image, when the seed is not an integer
  const user = given === undefined ? undefined : { pixels: given.pixels.slice(), shape: { ...given.shape } };
  // The pattern depends only on the shape, and redrawing noise per image would turn a trigger into
  // augmentation, so each shape's pattern is made once.
  const patterns = new Map<string, Uint8Array>();
  return {
    name: 'blend',
    cleanLabel: false,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      const key = formatShape(shape);
      let pattern = patterns.get(key);
      if (pattern === undefined) {
        pattern = user === undefined ? noisePattern(shape, options.seed) : fitPattern(user, shape);
        patterns.set(key, pattern);
      }
      const out = new Uint8Array(image.length);
      const keep = 1 - alpha;
      for (let i = 0; i < image.length; i++) {
        out[i] = Math.round(keep * (image[i] as number) + alpha * (pattern[i] as number));
      }
      return out;
    },
  };
}

function noisePattern(shape: ImageShape, seed: number): Uint8Array {
  // A fresh generator per shape, so a shape's pattern does not depend on which shapes came first.
  const rng = mulberry32(seed);
  const out = new Uint8Array(shape.height * shape.width * shape.channels);
  for (let i = 0; i < out.length; i++) out[i] = randomInt(rng, 256);
  return out;
}

function fitPattern(pattern: PatchImage, shape: ImageShape): Uint8Array {
  const p = pattern.shape;
  if (
    p.height !== shape.height ||
    p.width !== shape.width ||
    (p.channels !== 1 && p.channels !== shape.channels)
  ) {
    throw new UsageError(
      `blend pattern is ${formatShape(p)} but the image is ${formatShape(shape)}; expected the same shape ` +
        `or ${shape.height}x${shape.width}x1`,
    );
  }
  return patchToChannels(pattern, shape.channels, 'blend pattern');
}
