import { encode as encodePng } from 'fast-png';
import type { ImageShape } from '../../data/imageShape.js';

/**
 * An image as a `data:image/png;base64,...` URI, so the HTML report embeds it and needs no file or
 * network at view time. Float pixels (means) are rounded and clamped to 0–255.
 *
 * @param pixels - H×W×C values, row-major, channels last.
 * @param shape - the image's shape (1 channel: grey, 3: RGB, 4: RGBA).
 */
export function imageDataUri(pixels: Uint8Array | Float32Array, shape: ImageShape): string {
  const data =
    pixels instanceof Uint8Array
      ? pixels
      : Uint8Array.from(pixels, (v) => Math.max(0, Math.min(255, Math.round(v))));
  const png = encodePng({
    width: shape.width,
    height: shape.height,
    data,
    channels: shape.channels,
    depth: 8,
  });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}
