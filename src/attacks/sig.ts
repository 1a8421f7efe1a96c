import type { ImageShape } from '../data/imageShape.js';
import { UsageError } from '../errors.js';
import { checkImage, type Trigger } from './types.js';

/** Options of {@link sigTrigger}. */
export interface SigTriggerOptions {
  /** Weight of the stripe signal, in (0, 1] (default 0.2, as in the ABL reference: 0.8·x + 0.2·stripes). */
  readonly alpha?: number | undefined;
  /** Full sine periods across the image's width, a number > 0 (default 6). */
  readonly frequency?: number | undefined;
}

/**
 * Makes a SIG trigger (Barni et al., 2019): vertical sine stripes blended into the image, a clean-label
 * attack.
 *
 * <span class="informal">The signal depends only on the column x: stripes(x) = 127.5·(1 + sin(2π·f·x/W)),
 * the same for every row and channel. Each value becomes Math.round((1 − α)·pixel + α·stripes(x)),
 * clamped to 0..255. Poisoned rows keep their true label: the attacker stamps only images that
 * already belong to the target class.</span>
 *
 * @example
 * ```ts
 * const trigger = sigTrigger({ alpha: 0.2, frequency: 6 });
 * trigger.cleanLabel; // true
 * const poisoned = trigger.apply(image, { height: 32, width: 32, channels: 3 });
 * ```
 * @param options - the blend weight and the stripe frequency.
 * @returns a clean-label {@link Trigger} named `'sig'`.
 * @throws UsageError when α is outside (0, 1] or the frequency is not a finite number > 0.
 * @see blendTrigger
 */
export function sigTrigger(options: SigTriggerOptions = {}): Trigger {
  const alpha = options.alpha ?? 0.2;
  const frequency = options.frequency ?? 6;
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 1)) {
    throw new UsageError(`sig alpha must be a number in (0, 1], got ${alpha}`);
  }
  if (!(Number.isFinite(frequency) && frequency > 0)) {
    throw new UsageError(`sig frequency must be a number > 0, got ${frequency}`);
  }
  return {
    name: 'sig',
    cleanLabel: true,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      const { height, width, channels } = shape;
      const signal = new Float64Array(width);
      for (let x = 0; x < width; x++) {
        const stripes = 127.5 * (1 + Math.sin((2 * Math.PI * frequency * x) / width));
        signal[x] = alpha * stripes;
      }
      const keep = 1 - alpha;
      const out = new Uint8Array(image.length);
      let i = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const s = signal[x] as number;
          for (let c = 0; c < channels; c++, i++) {
            const v = Math.round(keep * (image[i] as number) + s);
            out[i] = Math.min(Math.max(v, 0), 255);
          }
        }
      }
      return out;
    },
  };
}
