import { describe, expect, it } from 'vitest';
import {
  bicubicUpsample,
  bilinearSample,
  wanetNoiseTrigger,
  wanetTrigger,
} from '../../../src/attacks/wanet.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';
import { mulberry32, randomInt } from '../../../src/util/random.js';

const shapes: readonly ImageShape[] = [
  { height: 28, width: 28, channels: 1 },
  { height: 32, width: 32, channels: 3 },
  { height: 5, width: 5, channels: 1 },
  { height: 4, width: 6, channels: 3 },
];

function randomImage(shape: ImageShape, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  return Uint8Array.from({ length: shape.height * shape.width * shape.channels }, () => randomInt(rng, 256));
}

/** A smooth picture (a bright disc on a gradient), closer to a real image than noise. */
function discImage(shape: ImageShape): Uint8Array {
  const out = new Uint8Array(shape.height * shape.width * shape.channels);
  const cy = (shape.height - 1) / 2;
  const cx = (shape.width - 1) / 2;
  for (let y = 0; y < shape.height; y++) {
    for (let x = 0; x < shape.width; x++) {
      const inside = (y - cy) ** 2 + (x - cx) ** 2 < (shape.height / 3) ** 2;
      for (let c = 0; c < shape.channels; c++) {
        out[(y * shape.width + x) * shape.channels + c] = inside ? 230 : 4 * x + 2 * y + 10 * c;
      }
    }
  }
  return out;
}

function identityGrid(height: number, width: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(height * width);
  const y = new Float64Array(height * width);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      x[r * width + c] = -1 + (2 * c) / (width - 1);
      y[r * width + c] = -1 + (2 * r) / (height - 1);
    }
  }
  return { x, y };
}

function mean(values: Uint8Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

describe('bicubicUpsample', () => {
  it('keeps a constant field constant', () => {
    const out = bicubicUpsample(
      new Float64Array(9).fill(0.7),
      { height: 3, width: 3 },
      { height: 10, width: 7 },
    );
    expect(out.length).toBe(70);
    for (const v of out) expect(v).toBeCloseTo(0.7, 12);
  });

  it('reproduces a linear ramp exactly at the corners (align_corners=True)', () => {
    const ramp = Float64Array.from({ length: 16 }, (_, i) => 2 * Math.floor(i / 4) + 3 * (i % 4));
    const out = bicubicUpsample(ramp, { height: 4, width: 4 }, { height: 13, width: 9 });
    expect(out[0]).toBe(0);
    expect(out[8]).toBe(9);
    expect(out[12 * 9]).toBe(6);
    expect(out[12 * 9 + 8]).toBe(15);
  });

  it('reproduces every input sample that falls on an output sample', () => {
    // 4 → 10 with align_corners: output o reads input o/3, so outputs 0, 3, 6, 9 are inputs 0..3.
    const values = Float64Array.of(5, -1, 2, 8, 0.5, 3, -4, 1, 7, 2, 2, 6, -3, 9, 1, 0);
    const out = bicubicUpsample(values, { height: 4, width: 4 }, { height: 10, width: 10 });
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) expect(out[3 * r * 10 + 3 * c]).toBe(values[r * 4 + c]);
    }
  });

  it('uses the Keys kernel with a = −0.75 and clamps taps at the border', () => {
    // Halfway between samples the weights are K(1.5) = −0.09375, K(0.5) = 0.59375, 0.59375, −0.09375;
    // for [0, 1, 0] the taps at x = 0.5 are [0, 0, 1, 0] (index −1 clamped to 0), giving 0.59375.
    const out = bicubicUpsample(Float64Array.of(0, 1, 0), { height: 1, width: 3 }, { height: 1, width: 5 });
    expect(Array.from(out)).toEqual([0, 0.59375, 1, 0.59375, 0]);
    // Same along the other axis.
    const col = bicubicUpsample(Float64Array.of(0, 1, 0), { height: 3, width: 1 }, { height: 5, width: 1 });
    expect(Array.from(col)).toEqual([0, 0.59375, 1, 0.59375, 0]);
  });

  it('rejects a field of the wrong length or a bad size', () => {
    expect(() =>
      bicubicUpsample(new Float64Array(3), { height: 2, width: 2 }, { height: 4, width: 4 }),
    ).toThrow(/3 values; expected 4/);
    expect(() =>
      bicubicUpsample(new Float64Array(4), { height: 2, width: 2 }, { height: 0, width: 4 }),
    ).toThrow(UsageError);
  });
});

describe('bilinearSample', () => {
  it('blends the four neighbours of a point', () => {
    const shape = { height: 2, width: 2, channels: 1 };
    // The centre (0, 0) is a quarter of each pixel: (0 + 100 + 200 + 40)/4 = 85.
    expect(
      Array.from(bilinearSample(Uint8Array.of(0, 100, 200, 40), shape, [0, 0, 0, 0], [0, 0, 0, 0])),
    ).toEqual([85, 85, 85, 85]);
    // (x, y) = (−1, 0): halfway down the left column, 100; (0.5, −1): three quarters along the top row, 75.
    const out = bilinearSample(Uint8Array.of(0, 100, 200, 40), shape, [-1, 0.5, 1, -1], [0, -1, 1, -1]);
    expect(Array.from(out)).toEqual([100, 75, 40, 0]);
  });

  it('pads with zeros outside the image', () => {
    const shape = { height: 1, width: 2, channels: 1 };
    // x = 1.5 is column 1.25: 0.75 of column 1 (200) and 0.25 of the missing column 2 (0).
    expect(Array.from(bilinearSample(Uint8Array.of(0, 200), shape, [1.5, 3], [0, 0]))).toEqual([150, 0]);
  });

  it('samples every channel at the same point', () => {
    const shape = { height: 1, width: 2, channels: 3 };
    const out = bilinearSample(Uint8Array.of(0, 10, 255, 100, 30, 0), shape, [0, 1], [0, 0]);
    expect(Array.from(out)).toEqual([50, 20, 128, 100, 30, 0]);
  });

  it('returns the image unchanged on the identity grid', () => {
    for (const shape of shapes) {
      const image = randomImage(shape, 11);
      const grid = identityGrid(shape.height, shape.width);
      expect(bilinearSample(image, shape, grid.x, grid.y)).toEqual(image);
    }
  });

  it('rejects a grid of the wrong size', () => {
    const shape = { height: 2, width: 2, channels: 1 };
    expect(() => bilinearSample(new Uint8Array(4), shape, [0, 0, 0], [0, 0, 0, 0])).toThrow(
      /expected 4 of each/,
    );
  });
});

describe('wanetTrigger', () => {
  it('is a dirty-label trigger named wanet', () => {
    const t = wanetTrigger({ seed: 1 });
    expect(t.name).toBe('wanet');
    expect(t.cleanLabel).toBe(false);
  });

  it('returns the image unchanged when s = 0', () => {
    for (const shape of shapes) {
      const image = randomImage(shape, 5);
      expect(wanetTrigger({ s: 0, seed: 1 }).apply(image, shape)).toEqual(image);
    }
  });

  it('multiplies the whole grid by gridRescale, as the reference code does', () => {
    // s = 0, rescale 0.5 on 3x3: samples at rows/columns 0.5, 1, 1.5. A linear image 10·(3y + x) gives
    // 10·(3·py + px) there.
    const shape = { height: 3, width: 3, channels: 1 };
    const image = Uint8Array.of(0, 10, 20, 30, 40, 50, 60, 70, 80);
    const out = wanetTrigger({ k: 2, s: 0, gridRescale: 0.5, seed: 1 }).apply(image, shape);
    expect(Array.from(out)).toEqual([20, 25, 30, 35, 40, 45, 50, 55, 60]);
  });

  it('warps a 28x28 image visibly but keeps its mean intensity', () => {
    const shape = { height: 28, width: 28, channels: 1 };
    for (const image of [discImage(shape), randomImage(shape, 2)]) {
      const out = wanetTrigger({ seed: 3 }).apply(image, shape);
      let changed = 0;
      for (let i = 0; i < out.length; i++) if (out[i] !== image[i]) changed++;
      expect(changed).toBeGreaterThan(50);
      expect(Math.abs(mean(out) - mean(image))).toBeLessThan(3);
    }
  });

  it('applies the same warp to every image and never modifies its input', () => {
    for (const shape of shapes) {
      const t = wanetTrigger({ seed: 4 });
      const image = discImage(shape);
      const copy = image.slice();
      const first = t.apply(image, shape);
      expect(image).toEqual(copy);
      expect(t.apply(image, shape)).toEqual(first);
      expect(wanetTrigger({ seed: 4 }).apply(image, shape)).toEqual(first);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const shape = { height: 32, width: 32, channels: 3 };
    const image = randomImage(shape, 6);
    const a = wanetTrigger({ seed: 1, s: 1 }).apply(image, shape);
    expect(wanetTrigger({ seed: 1, s: 1 }).apply(image, shape)).toEqual(a);
    expect(wanetTrigger({ seed: 2, s: 1 }).apply(image, shape)).not.toEqual(a);
  });

  it('warps more with a larger s', () => {
    const shape = { height: 28, width: 28, channels: 1 };
    const image = randomImage(shape, 7);
    const diff = (s: number) => {
      const out = wanetTrigger({ seed: 1, s }).apply(image, shape);
      let d = 0;
      for (let i = 0; i < out.length; i++) d += Math.abs((out[i] as number) - (image[i] as number));
      return d;
    };
    expect(diff(0.25)).toBeLessThan(diff(0.5));
    expect(diff(0.5)).toBeLessThan(diff(1));
  });

  it('rejects out-of-range parameters', () => {
    expect(() => wanetTrigger({ k: 1, seed: 0 })).toThrow(/k must be an integer ≥ 2/);
    expect(() => wanetTrigger({ k: 2.5, seed: 0 })).toThrow(UsageError);
    expect(() => wanetTrigger({ s: -0.1, seed: 0 })).toThrow(/s must be a number ≥ 0/);
    expect(() => wanetTrigger({ gridRescale: 0, seed: 0 })).toThrow(/gridRescale must be a number > 0/);
    expect(() => wanetTrigger({ seed: 0.5 })).toThrow(UsageError);
    const shape = { height: 5, width: 8, channels: 1 };
    expect(() => wanetTrigger({ k: 6, seed: 0 }).apply(new Uint8Array(40), shape)).toThrow(/expected k ≤ 5/);
    expect(() => wanetTrigger({ k: 5, seed: 0 }).apply(new Uint8Array(40), shape)).not.toThrow();
  });
});

describe('wanetNoiseTrigger', () => {
  it('is a clean-label trigger named wanet, also reached through wanetTrigger({noise: true})', () => {
    const shape = { height: 28, width: 28, channels: 1 };
    const image = discImage(shape);
    const t = wanetNoiseTrigger({ seed: 3 });
    expect(t.name).toBe('wanet');
    expect(t.cleanLabel).toBe(true);
    const viaOption = wanetTrigger({ seed: 3, noise: true });
    expect(viaOption.cleanLabel).toBe(true);
    expect(viaOption.apply(image, shape)).toEqual(t.apply(image, shape));
  });

  it('draws fresh noise on every call, in a sequence fixed by the seed', () => {
    const shape = { height: 28, width: 28, channels: 1 };
    const image = randomImage(shape, 9);
    const copy = image.slice();
    const t = wanetNoiseTrigger({ seed: 3 });
    const a = t.apply(image, shape);
    const b = t.apply(image, shape);
    expect(a).not.toEqual(b);
    expect(image).toEqual(copy);
    const again = wanetNoiseTrigger({ seed: 3 });
    expect(again.apply(image, shape)).toEqual(a);
    expect(again.apply(image, shape)).toEqual(b);
    expect(a).not.toEqual(wanetTrigger({ seed: 3 }).apply(image, shape));
  });

  it('works on every shape and keeps the mean intensity of full-size images', () => {
    for (const shape of shapes) {
      const image = discImage(shape);
      const out = wanetNoiseTrigger({ seed: 8 }).apply(image, shape);
      expect(out.length).toBe(image.length);
      // The jitter is up to 1/H in grid units, about half a pixel: on a 5x5 picture that is a large
      // share of the image, so the mean is only checked where the image is big enough to average it out.
      if (shape.height >= 28) expect(Math.abs(mean(out) - mean(image))).toBeLessThan(3);
    }
  });

  it('accepts the largest safe seed', () => {
    expect(() => wanetNoiseTrigger({ seed: Number.MAX_SAFE_INTEGER })).not.toThrow();
  });
});
