import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { imageDataUri } from '../../../../src/report/figures/imageDataUri.js';

function decodeUri(uri: string) {
  expect(uri.startsWith('data:image/png;base64,')).toBe(true);
  return decode(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
}

describe('imageDataUri', () => {
  it('embeds small images pixel for pixel', () => {
    const pixels = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 10);
    const png = decodeUri(imageDataUri(pixels, { height: 2, width: 3, channels: 3 }));
    expect([png.width, png.height, png.channels]).toEqual([3, 2, 3]);
    expect(Array.from(png.data)).toEqual(Array.from(pixels));
  });

  it('rounds and clamps float means', () => {
    const png = decodeUri(
      imageDataUri(Float32Array.from([-3, 12.6, 300, 254.4]), { height: 2, width: 2, channels: 1 }),
    );
    expect(Array.from(png.data)).toEqual([0, 13, 255, 254]);
  });

  it('shrinks an image larger than maxSide by block averages', () => {
    const shape = { height: 300, width: 200, channels: 1 };
    // Left half 0, right half 200: a 3× shrink keeps the edge between blocks.
    const pixels = Uint8Array.from({ length: 300 * 200 }, (_, i) => (i % 200 < 100 ? 0 : 200));
    const png = decodeUri(imageDataUri(pixels, shape, 128));
    expect([png.width, png.height]).toEqual([67, 100]);
    expect(png.data[0]).toBe(0);
    expect(png.data[66]).toBe(200);
    // The block straddling the edge (columns 99–101) averages one 0 and two 200s.
    expect(png.data[33]).toBe(133);
  });
});
