import { describe, expect, it } from 'vitest';
import { blendTrigger } from '../../../src/attacks/blend.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';
import { mulberry32, randomInt } from '../../../src/util/random.js';

const grey22: ImageShape = { height: 2, width: 2, channels: 1 };

function randomImage(shape: ImageShape, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  return Uint8Array.from({ length: shape.height * shape.width * shape.channels }, () => randomInt(rng, 256));
}

describe('blendTrigger', () => {
  it('mixes a given pattern in with weight alpha, rounding the result', () => {
    const pattern = { pixels: Uint8Array.of(255, 0, 50, 10), shape: grey22 };
    const out = blendTrigger({ alpha: 0.2, pattern, seed: 0 }).apply(Uint8Array.of(0, 100, 200, 255), grey22);
    // 0.8·0 + 0.2·255 = 51; 0.8·100 + 0 = 80; 0.8·200 + 0.2·50 = 170; 0.8·255 + 0.2·10 = 206.
    expect(Array.from(out)).toEqual([51, 80, 170, 206]);
  });

  it('rounds to the nearest integer', () => {
    const pattern = { pixels: Uint8Array.of(1, 2, 3, 200), shape: grey22 };
    // 0.7·10 + 0.3·1 = 7.3 → 7; 0.7·10 + 0.3·2 = 7.6 → 8; 0.7·11 + 0.3·3 = 8.6 → 9; 0.7·0 + 0.3·200 = 60.
    const out = blendTrigger({ alpha: 0.3, pattern, seed: 0 }).apply(Uint8Array.of(10, 10, 11, 0), grey22);
    expect(Array.from(out)).toEqual([7, 8, 9, 60]);
  });

  it('is a dirty-label trigger named blend', () => {
    const t = blendTrigger({ seed: 1 });
    expect(t.name).toBe('blend');
    expect(t.cleanLabel).toBe(false);
  });

  it('copies a grey pattern to every channel of an RGB image', () => {
    const shape = { height: 1, width: 2, channels: 3 };
    const pattern = { pixels: Uint8Array.of(200, 0), shape: { height: 1, width: 2, channels: 1 } };
    const out = blendTrigger({ alpha: 0.5, pattern, seed: 0 }).apply(
      Uint8Array.of(0, 100, 255, 10, 20, 30),
      shape,
    );
    // 0.5·x + 0.5·p: 100, 150, 227.5 → 228 | 5, 10, 15.
    expect(Array.from(out)).toEqual([100, 150, 228, 5, 10, 15]);
  });

  it('draws the default noise pattern once per shape from mulberry32(seed), integers 0..255 in HWC order', () => {
    const shape = { height: 4, width: 6, channels: 3 };
    const t = blendTrigger({ alpha: 1, seed: 9 });
    const rng = mulberry32(9);
    const expected = Uint8Array.from({ length: 72 }, () => randomInt(rng, 256));
    // With alpha = 1 the output is the pattern itself: the same for every image.
    expect(t.apply(new Uint8Array(72), shape)).toEqual(expected);
    expect(t.apply(randomImage(shape, 3), shape)).toEqual(expected);
  });

  it('gives a shape the same pattern whatever shapes came first', () => {
    const a = blendTrigger({ seed: 5 });
    const b = blendTrigger({ seed: 5 });
    const big = { height: 28, width: 28, channels: 1 };
    const small = { height: 5, width: 5, channels: 1 };
    a.apply(randomImage(big, 1), big);
    const image = randomImage(small, 2);
    expect(a.apply(image, small)).toEqual(b.apply(image, small));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const shape = { height: 32, width: 32, channels: 3 };
    const image = randomImage(shape, 4);
    const one = blendTrigger({ seed: 1 }).apply(image, shape);
    expect(blendTrigger({ seed: 1 }).apply(image, shape)).toEqual(one);
    expect(blendTrigger({ seed: 2 }).apply(image, shape)).not.toEqual(one);
  });

  it('stays within alpha·255 of the scaled image on 28x28x1, 32x32x3 and tiny shapes, never touching its input', () => {
    for (const shape of [
      { height: 28, width: 28, channels: 1 },
      { height: 32, width: 32, channels: 3 },
      { height: 5, width: 5, channels: 1 },
      { height: 4, width: 6, channels: 3 },
    ]) {
      const image = randomImage(shape, 8);
      const copy = image.slice();
      const out = blendTrigger({ seed: 3 }).apply(image, shape);
      expect(image).toEqual(copy);
      expect(out.length).toBe(image.length);
      for (let i = 0; i < out.length; i++) {
        const d = (out[i] as number) - 0.8 * (image[i] as number);
        expect(d).toBeGreaterThanOrEqual(-0.5);
        expect(d).toBeLessThanOrEqual(51.5);
      }
    }
  });

  it('rejects alpha outside (0, 1] and a non-integer seed', () => {
    for (const alpha of [0, -0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => blendTrigger({ alpha, seed: 1 })).toThrow(/alpha must be a number in \(0, 1\]/);
    }
    expect(() => blendTrigger({ alpha: 1, seed: 1 })).not.toThrow();
    expect(() => blendTrigger({ seed: 1.5 })).toThrow(UsageError);
  });

  it('rejects a malformed pattern when built and a mismatched one when applied', () => {
    expect(() => blendTrigger({ pattern: { pixels: new Uint8Array(3), shape: grey22 }, seed: 0 })).toThrow(
      /3 bytes; expected 4/,
    );
    const pattern = { pixels: new Uint8Array(4), shape: grey22 };
    const t = blendTrigger({ pattern, seed: 0 });
    expect(() => t.apply(new Uint8Array(9), { height: 3, width: 3, channels: 1 })).toThrow(
      /pattern is 2x2x1 but the image is 3x3x1/,
    );
    const rgbPattern = blendTrigger({
      pattern: { pixels: new Uint8Array(12), shape: { ...grey22, channels: 3 } },
      seed: 0,
    });
    expect(() => rgbPattern.apply(new Uint8Array(4), grey22)).toThrow(UsageError);
  });
});
