import { describe, expect, it } from 'vitest';
import { badnetsTrigger, patchToChannels } from '../../../src/attacks/badnets.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { DataError, UsageError } from '../../../src/errors.js';

const grey5: ImageShape = { height: 5, width: 5, channels: 1 };
const rgb46: ImageShape = { height: 4, width: 6, channels: 3 };

function constant(shape: ImageShape, value: number): Uint8Array {
  return new Uint8Array(shape.height * shape.width * shape.channels).fill(value);
}

/** Pixel (y, x, c) = 10·y + 2·x + c + 1: distinct everywhere, so a misplaced write shows. */
function ramp(shape: ImageShape): Uint8Array {
  const out = new Uint8Array(shape.height * shape.width * shape.channels);
  for (let y = 0; y < shape.height; y++) {
    for (let x = 0; x < shape.width; x++) {
      for (let c = 0; c < shape.channels; c++)
        out[(y * shape.width + x) * shape.channels + c] = 10 * y + 2 * x + c + 1;
    }
  }
  return out;
}

/** The ramp with the listed pixels set to a grey value in every channel. */
function rampWith(
  shape: ImageShape,
  cells: ReadonlyArray<readonly [y: number, x: number, value: number]>,
): Uint8Array {
  const out = ramp(shape);
  for (const [y, x, v] of cells)
    out.fill(v, (y * shape.width + x) * shape.channels, (y * shape.width + x + 1) * shape.channels);
  return out;
}

describe('badnetsTrigger', () => {
  it('stamps the 3x3 grid in the bottom-right corner of a constant 5x5 grey image by default', () => {
    const out = badnetsTrigger().apply(constant(grey5, 100), grey5);
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      100, 100, 100, 100, 100,
      100, 100, 100, 100, 100,
      100, 100, 255,   0, 255,
      100, 100,   0, 255,   0,
      100, 100, 255,   0, 255,
    ]);
  });

  it('is a dirty-label trigger named badnets', () => {
    const t = badnetsTrigger({});
    expect(t.name).toBe('badnets');
    expect(t.cleanLabel).toBe(false);
  });

  it('keeps a margin from the chosen corner', () => {
    const out = badnetsTrigger({ position: 'top-left', margin: 1 }).apply(constant(grey5, 7), grey5);
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      7,   7,   7,   7, 7,
      7, 255,   0, 255, 7,
      7,   0, 255,   0, 7,
      7, 255,   0, 255, 7,
      7,   7,   7,   7, 7,
    ]);
  });

  it('replaces all channels of an RGB image, in each corner', () => {
    const grid = (y0: number, x0: number) =>
      [0, 1, 2].flatMap((y) => [0, 1, 2].map((x) => [y0 + y, x0 + x, (y + x) % 2 === 0 ? 255 : 0] as const));
    const cases = [
      ['bottom-right', 1, 3],
      ['bottom-left', 1, 0],
      ['top-right', 0, 3],
      ['top-left', 0, 0],
    ] as const;
    for (const [corner, y0, x0] of cases) {
      const out = badnetsTrigger({ position: corner }).apply(ramp(rgb46), rgb46);
      expect(out, corner).toEqual(rampWith(rgb46, grid(y0, x0)));
    }
  });

  it('places a white square of the given size at an explicit {x, y}', () => {
    const out = badnetsTrigger({ patch: 'square', size: 2, position: { x: 4, y: 2 } }).apply(
      ramp(rgb46),
      rgb46,
    );
    expect(out).toEqual(
      rampWith(rgb46, [
        [2, 4, 255],
        [2, 5, 255],
        [3, 4, 255],
        [3, 5, 255],
      ]),
    );
  });

  it('defaults the square to 3x3', () => {
    const out = badnetsTrigger({ patch: 'square', position: 'top-right' }).apply(constant(grey5, 0), grey5);
    // biome-ignore format: one row of pixels per line
    expect(Array.from(out)).toEqual([
      0, 0, 255, 255, 255,
      0, 0, 255, 255, 255,
      0, 0, 255, 255, 255,
      0, 0,   0,   0,   0,
      0, 0,   0,   0,   0,
    ]);
  });

  it('copies a grey user patch to every channel of an RGB image', () => {
    const patch = { pixels: Uint8Array.of(9, 8, 7, 6), shape: { height: 2, width: 2, channels: 1 } };
    const out = badnetsTrigger({ patch, position: 'bottom-left' }).apply(ramp(rgb46), rgb46);
    expect(out).toEqual(
      rampWith(rgb46, [
        [2, 0, 9],
        [2, 1, 8],
        [3, 0, 7],
        [3, 1, 6],
      ]),
    );
  });

  it('converts an RGB user patch on a grey image to rounded luminance', () => {
    // 0.299·255 = 76.245 → 76; 0.587·255 = 149.685 → 150; 0.114·255 = 29.07 → 29;
    // 0.299·10 + 0.587·20 + 0.114·30 = 18.15 → 18.
    const patch = {
      pixels: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30),
      shape: { height: 2, width: 2, channels: 3 },
    };
    const out = badnetsTrigger({ patch, position: { x: 0, y: 0 } }).apply(constant(grey5, 1), grey5);
    expect(Array.from(out.subarray(0, 10))).toEqual([76, 150, 1, 1, 1, 29, 18, 1, 1, 1]);
    expect(Array.from(patchToChannels(patch, 1, 'patch'))).toEqual([76, 150, 29, 18]);
  });

  it('uses an RGB patch on an RGB image as it is', () => {
    const patch = { pixels: Uint8Array.of(1, 2, 3), shape: { height: 1, width: 1, channels: 3 } };
    const out = badnetsTrigger({ patch, position: { x: 5, y: 3 } }).apply(ramp(rgb46), rgb46);
    const expected = ramp(rgb46);
    expected.set([1, 2, 3], (3 * 6 + 5) * 3);
    expect(out).toEqual(expected);
  });

  it('changes only the patch on 28x28x1 and 32x32x3 images, and never its input', () => {
    for (const shape of [
      { height: 28, width: 28, channels: 1 },
      { height: 32, width: 32, channels: 3 },
      { height: 4, width: 6, channels: 3 },
    ]) {
      const image = constant(shape, 128);
      const copy = image.slice();
      const out = badnetsTrigger({ margin: 1 }).apply(image, shape);
      expect(image).toEqual(copy);
      expect(out).not.toBe(image);
      let changed = 0;
      for (let i = 0; i < out.length; i++) if (out[i] !== image[i]) changed++;
      expect(changed).toBe(9 * shape.channels);
      // The grid's top-left cell (white) sits at (H − 4, W − 4) with margin 1.
      expect(out[((shape.height - 4) * shape.width + shape.width - 4) * shape.channels]).toBe(255);
    }
  });

  it('does not change when the caller later reuses its patch buffer', () => {
    const pixels = Uint8Array.of(50);
    const t = badnetsTrigger({ patch: { pixels, shape: { height: 1, width: 1, channels: 1 } } });
    pixels[0] = 60;
    expect(t.apply(constant(grey5, 0), grey5)[24]).toBe(50);
  });

  it('rejects a bad size, margin or position when built', () => {
    expect(() => badnetsTrigger({ patch: 'square', size: 0 })).toThrow(UsageError);
    expect(() => badnetsTrigger({ patch: 'square', size: 1.5 })).toThrow(/integer ≥ 1/);
    expect(() => badnetsTrigger({ size: 3 })).toThrow(/only to the 'square' patch/);
    expect(() => badnetsTrigger({ margin: -1 })).toThrow(/margin must be an integer ≥ 0, got -1/);
    expect(() => badnetsTrigger({ margin: 0.5 })).toThrow(UsageError);
    expect(() => badnetsTrigger({ position: { x: -1, y: 0 } })).toThrow(/two integers ≥ 0/);
    expect(() => badnetsTrigger({ position: { x: 0, y: 0 }, margin: 1 })).toThrow(/only at a corner/);
    expect(() => badnetsTrigger({ position: 'middle' as 'top-left' })).toThrow(
      /expected one of bottom-right/,
    );
    expect(() => badnetsTrigger({ patch: 'stripes' as 'grid' })).toThrow(
      /expected 'grid', 'square' or an image/,
    );
    expect(() =>
      badnetsTrigger({ patch: { pixels: new Uint8Array(5), shape: { height: 2, width: 2, channels: 1 } } }),
    ).toThrow(/5 bytes; expected 4/);
  });

  it('rejects, when applied, a patch that does not fit the image', () => {
    const small = { height: 4, width: 4, channels: 1 };
    const image = constant(small, 0);
    expect(() => badnetsTrigger({ patch: 'square', size: 5 }).apply(image, small)).toThrow(
      /larger than the 4x4x1/,
    );
    expect(() => badnetsTrigger({ patch: 'square', size: 3, margin: 2 }).apply(image, small)).toThrow(
      /margin 2 does not fit.*margin ≤ 1/,
    );
    expect(() => badnetsTrigger({ position: { x: 2, y: 0 } }).apply(image, small)).toThrow(
      /runs past the edge.*x ≤ 1 and y ≤ 1/,
    );
    expect(() => badnetsTrigger({ position: { x: 0, y: 2 } }).apply(image, small)).toThrow(UsageError);
  });

  it('rejects a patch whose channels cannot be matched to the image', () => {
    const patch = { pixels: new Uint8Array(4), shape: { height: 1, width: 1, channels: 4 } };
    expect(() => badnetsTrigger({ patch }).apply(ramp(rgb46), rgb46)).toThrow(
      /4 channels but the image has 3/,
    );
  });

  it('rejects an image that does not match its shape', () => {
    expect(() => badnetsTrigger().apply(new Uint8Array(24), grey5)).toThrow(DataError);
    expect(() => badnetsTrigger().apply(new Uint8Array(0), { height: 0, width: 0, channels: 1 })).toThrow(
      UsageError,
    );
  });
});
