import { encode as encodePng } from 'fast-png';
import type { ReportImageShape as ImageShape } from '../auditReport.js';
import { blockAverage, shrinkFactor } from './blockAverage.js';

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
  const factor = shrinkFactor(shape, maxSide);
  const small = factor > 1 ? blockAverage(pixels, shape, factor) : { pixels, shape };
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
