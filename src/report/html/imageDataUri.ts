import { encode as encodePng } from 'fast-png';
import type { ImageShape } from '../../data/imageShape.js';

/**
 * An image as a `data:image/png;base64,...` URI, so the HTML report embeds it and needs no file or
 * network at view time. Float pixels (means) are rounded and clamped to 0–255; an image larger than
 * `maxSide` is shrunk by a whole factor (box average) so that it is at most that big.
 *
 * @param pixels - H×W×C values, row-major, channels last.
 * @param shape - the image's shape (1 channel: grey, 3: RGB, 4: RGBA).
 * @param maxSide - largest side to embed (default: no limit).
 */
export function imageDataUri(
  pixels: Uint8Array | Float32Array,
  shape: ImageShape,
  maxSide = Number.POSITIVE_INFINITY,
): string {
  const factor = Math.ceil(Math.max(shape.height, shape.width) / maxSide);
  const small = factor > 1 ? shrink(pixels, shape, factor) : { pixels, shape };
  const data =
    small.pixels instanceof Uint8Array
      ? small.pixels
      : Uint8Array.from(small.pixels, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const png = encodePng({
    width: small.shape.width,
    height: small.shape.height,
    data,
    channels: small.shape.channels,
    depth: 8,
  });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

/** Box-average `factor × factor` blocks (edge blocks average what they hold). */
function shrink(
  pixels: Uint8Array | Float32Array,
  shape: ImageShape,
  factor: number,
): { pixels: Float32Array; shape: ImageShape } {
  const { height, width, channels } = shape;
  const h = Math.ceil(height / factor);
  const w = Math.ceil(width / factor);
  const out = new Float32Array(h * w * channels);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      for (let ch = 0; ch < channels; ch++) {
        let sum = 0;
        let n = 0;
        for (let y = r * factor; y < Math.min(height, (r + 1) * factor); y++) {
          for (let x = c * factor; x < Math.min(width, (c + 1) * factor); x++) {
            sum += pixels[(y * width + x) * channels + ch] as number;
            n++;
          }
        }
        out[(r * w + c) * channels + ch] = sum / n;
      }
    }
  }
  return { pixels: out, shape: { height: h, width: w, channels } };
}
