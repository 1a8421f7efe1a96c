import { describe, expect, it } from 'vitest';
import { sigTrigger } from '../../../src/attacks/sig.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';

function constant(shape: ImageShape, value: number): Uint8Array {
  return new Uint8Array(shape.height * shape.width * shape.channels).fill(value);
}

describe('sigTrigger', () => {
  it('adds vertical stripes that depend only on the column', () => {
    // f = 1, W = 4: stripes = 127.5·(1 + sin(2π·x/4)) = 127.5, 255, 127.5, 0.
    // 0.8·101 + 0.2·stripes = 80.8 + (25.5, 51, 25.5, 0) = 106.3, 131.8, 106.3, 80.8.
    const shape = { height: 3, width: 4, channels: 1 };
    const out = sigTrigger({ alpha: 0.2, frequency: 1 }).apply(constant(shape, 101), shape);
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      106, 132, 106, 81,
      106, 132, 106, 81,
      106, 132, 106, 81,
    ]);
  });

  it('gives every channel the same stripe', () => {
    const shape = { height: 2, width: 8, channels: 3 };
    const out = sigTrigger({ frequency: 2 }).apply(constant(shape, 101), shape);
    const row = [106, 132, 106, 81, 106, 132, 106, 81].flatMap((v) => [v, v, v]);
    expect(Array.from(out)).toEqual([...row, ...row]);
  });

  it('is the stripe signal itself at alpha = 1', () => {
    const shape = { height: 1, width: 4, channels: 1 };
    const out = sigTrigger({ alpha: 1, frequency: 1 }).apply(constant(shape, 77), shape);
    expect(Array.from(out)).toEqual([128, 255, 128, 0]);
  });

  it('uses alpha 0.2 and frequency 6 by default', () => {
    const shape = { height: 32, width: 32, channels: 3 };
    const image = constant(shape, 101);
    expect(sigTrigger().apply(image, shape)).toEqual(
      sigTrigger({ alpha: 0.2, frequency: 6 }).apply(image, shape),
    );
    expect(sigTrigger().apply(image, shape)).not.toEqual(sigTrigger({ frequency: 5 }).apply(image, shape));
  });

  it('is a clean-label trigger named sig', () => {
    const t = sigTrigger();
    expect(t.name).toBe('sig');
    expect(t.cleanLabel).toBe(true);
  });

  it('keeps rows identical on 28x28x1, 32x32x3 and tiny images, never touching its input', () => {
    for (const shape of [
      { height: 28, width: 28, channels: 1 },
      { height: 32, width: 32, channels: 3 },
      { height: 5, width: 5, channels: 1 },
      { height: 4, width: 6, channels: 3 },
    ]) {
      const image = constant(shape, 200);
      const copy = image.slice();
      const out = sigTrigger().apply(image, shape);
      expect(image).toEqual(copy);
      const rowLength = shape.width * shape.channels;
      const first = out.subarray(0, rowLength);
      for (let y = 1; y < shape.height; y++)
        expect(out.subarray(y * rowLength, (y + 1) * rowLength)).toEqual(first);
      // Column 0 is sin(0) = 0: 0.8·200 + 0.2·127.5 = 185.5 → 186.
      expect(out[0]).toBe(186);
    }
  });

  it('rejects alpha outside (0, 1] and a frequency that is not > 0', () => {
    for (const alpha of [0, -1, 1.5, Number.NaN]) expect(() => sigTrigger({ alpha })).toThrow(/alpha/);
    for (const frequency of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sigTrigger({ frequency })).toThrow(/frequency must be a number > 0/);
    }
    expect(() => sigTrigger({ frequency: 0 })).toThrow(UsageError);
    expect(() => sigTrigger({ frequency: 0.5, alpha: 1 })).not.toThrow();
  });
});
