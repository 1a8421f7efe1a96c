import { describe, expect, it } from 'vitest';
import { trojanTrigger } from '../../../src/attacks/trojan.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';

function constant(shape: ImageShape, value: number): Uint8Array {
  return new Uint8Array(shape.height * shape.width * shape.channels).fill(value);
}

describe('trojanTrigger', () => {
  it('adds the ±160 pattern one pixel in from the bottom-right corner by default', () => {
    const shape = { height: 5, width: 5, channels: 1 };
    const out = trojanTrigger().apply(constant(shape, 80), shape);
    // 80 + 160 = 240; 80 − 160 clips to 0.
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      80,  80,  80,  80, 80,
      80, 240,   0, 240, 80,
      80,   0, 240,   0, 80,
      80, 240,   0, 240, 80,
      80,  80,  80,  80, 80,
    ]);
  });

  it('saturates instead of wrapping: 200 + 160 gives 255 and 50 − 160 gives 0', () => {
    const shape = { height: 3, width: 3, channels: 1 };
    // biome-ignore format: one row of pixels per line
    const image = Uint8Array.of(
      200,  50,  90,
      200,  10, 255,
        0, 170,  95,
    );
    const out = trojanTrigger({ margin: 0 }).apply(image, shape);
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      255,   0, 250,
       40, 170,  95,
      160,  10, 255,
    ]);
  });

  it('is a dirty-label trigger named trojan', () => {
    const t = trojanTrigger();
    expect(t.name).toBe('trojan');
    expect(t.cleanLabel).toBe(false);
  });

  it('adds to every channel of an RGB image', () => {
    const shape = { height: 4, width: 6, channels: 3 };
    const image = constant(shape, 100);
    image.set([200, 50, 0], (0 * 6 + 2) * 3); // the pattern's top-left (+) cell with default placement
    image.set([200, 50, 255], (0 * 6 + 3) * 3); // the next (−) cell
    const out = trojanTrigger().apply(image, shape);
    // H = 4, margin 1: rows 0..2; W = 6: columns 2..4.
    const expected = constant(shape, 100);
    const plus = [255, 255, 255];
    const minus = [0, 0, 0];
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) expected.set((x + y) % 2 === 0 ? plus : minus, (y * 6 + 2 + x) * 3);
    }
    expected.set([255, 210, 160], (0 * 6 + 2) * 3);
    expected.set([40, 0, 95], (0 * 6 + 3) * 3);
    expect(out).toEqual(expected);
  });

  it('honours corners, margins and explicit positions', () => {
    const shape = { height: 5, width: 5, channels: 1 };
    const image = constant(shape, 100);
    const top = trojanTrigger({ position: 'top-left', margin: 0 }).apply(image, shape);
    expect(Array.from(top.subarray(0, 5))).toEqual([255, 0, 255, 100, 100]);
    const at = trojanTrigger({ position: { x: 2, y: 1 } }).apply(image, shape);
    expect(Array.from(at.subarray(5, 10))).toEqual([100, 100, 255, 0, 255]);
    // Margin 2 from the bottom and the left of a 5x5 image: rows 0..2, columns 2..4.
    const bl = trojanTrigger({ position: 'bottom-left', margin: 2 }).apply(image, shape);
    expect(Array.from(bl.subarray(0, 5))).toEqual([100, 100, 255, 0, 255]);
    expect(Array.from(bl.subarray(20, 25))).toEqual([100, 100, 100, 100, 100]);
  });

  it('changes 9 pixels on 28x28x1 and 32x32x3 images and never its input', () => {
    for (const shape of [
      { height: 28, width: 28, channels: 1 },
      { height: 32, width: 32, channels: 3 },
      { height: 4, width: 6, channels: 3 },
    ]) {
      const image = constant(shape, 100);
      const copy = image.slice();
      const out = trojanTrigger().apply(image, shape);
      expect(image).toEqual(copy);
      let changed = 0;
      for (let i = 0; i < out.length; i++) if (out[i] !== image[i]) changed++;
      expect(changed).toBe(9 * shape.channels);
    }
  });

  it('rejects a bad margin or position', () => {
    expect(() => trojanTrigger({ margin: -1 })).toThrow(/margin must be an integer ≥ 0/);
    expect(() => trojanTrigger({ position: { x: 0, y: 0 }, margin: 1 })).toThrow(/only at a corner/);
    expect(() => trojanTrigger({ position: { x: 0.5, y: 0 } })).toThrow(UsageError);
    const shape = { height: 3, width: 3, channels: 1 };
    expect(() => trojanTrigger().apply(constant(shape, 0), shape)).toThrow(/margin 1 does not fit/);
    expect(() => trojanTrigger({ position: { x: 1, y: 0 } }).apply(constant(shape, 0), shape)).toThrow(
      /runs past the edge/,
    );
    const tiny = { height: 2, width: 5, channels: 1 };
    expect(() => trojanTrigger({ margin: 0 }).apply(constant(tiny, 0), tiny)).toThrow(
      /larger than the 2x5x1 image/,
    );
  });
});
