import type { ReportImageShape as ImageShape } from '../auditReport.js';

/** The whole factor that brings an image's longer side to at most `maxSide` (1 when it already fits). */
export function shrinkFactor(shape: ImageShape, maxSide: number): number {
  return Math.max(1, Math.ceil(Math.max(shape.height, shape.width) / maxSide));
}

/**
 * An image shrunk by a whole factor: each output pixel is the mean of a `factor × factor` block, per
 * channel (edge blocks average what they hold). Used for the embedded images and the trigger heat map,
 * so both shrink an image the same way.
 *
 * @param pixels - H×W×C values, row-major, channels last.
 * @param shape - the image's shape.
 * @param factor - block side (1 copies the image).
 */
export function blockAverage(
  pixels: ArrayLike<number>,
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
