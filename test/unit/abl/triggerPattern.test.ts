import { describe, expect, it } from 'vitest';
import { findTriggerPattern, patternDistances } from '../../../src/abl/triggerPattern.js';
import type { TrainBatch } from '../../../src/train/types.js';
import { mulberry32, randomInt } from '../../../src/util/random.js';

const SIDE = 16;
const SIZE = SIDE * SIDE;

/** `n` random 16×16 grey images, `stamp` applied to each. */
function images(
  n: number,
  seed: number,
  stamp: (img: Uint8Array, rng: () => number) => void = () => {},
): TrainBatch {
  const rng = mulberry32(seed);
  const data = new Uint8Array(n * SIZE);
  for (let r = 0; r < n; r++) {
    const img = data.subarray(r * SIZE, (r + 1) * SIZE);
    for (let p = 0; p < SIZE; p++) img[p] = randomInt(rng, 256);
    stamp(img, rng);
  }
  return {
    ids: Array.from({ length: n }, (_, i) => `s${seed}-${i}`),
    images: data,
    labels: new Int32Array(n),
    shape: { height: SIDE, width: SIDE, channels: 1 },
  };
}

/** A 3×3 checkerboard of 0 and 255 in the bottom-right corner, BadNets-style. */
const PATCH = [0, 1, 2].flatMap((dy) =>
  [0, 1, 2].map((dx) => ({ p: (SIDE - 3 + dy) * SIDE + SIDE - 3 + dx, v: (dx + dy) % 2 ? 0 : 255 })),
);
const patch = (img: Uint8Array) => {
  for (const { p, v } of PATCH) img[p] = v;
};

describe('findTriggerPattern', () => {
  it('finds a pasted patch and tells carriers from clean rows', () => {
    const isolated = images(30, 1, patch);
    const others = images(300, 2);
    const pattern = findTriggerPattern(isolated, others);
    expect(pattern).not.toBeNull();
    if (!pattern) return;
    // Every chosen pixel is a patch pixel, with the patch's value.
    for (const [j, p] of pattern.pixels.entries()) {
      const cell = PATCH.find((c) => c.p === p);
      expect(cell).toBeDefined();
      expect(pattern.values[j]).toBe(cell?.v);
    }
    expect(pattern.pixels.length).toBeGreaterThanOrEqual(5);
    const carriers = images(50, 3, patch);
    const clean = images(500, 4);
    expect(patternDistances(pattern, carriers).every((d) => d <= pattern.threshold)).toBe(true);
    expect(patternDistances(pattern, clean).filter((d) => d <= pattern.threshold).length).toBeLessThanOrEqual(
      5,
    );
  });

  it('finds nothing when the isolated rows share no pixels (a blended noise image, a warp)', () => {
    const blended = images(30, 5, (img, rng) => {
      for (let p = 0; p < SIZE; p++)
        img[p] = Math.round(0.8 * (img[p] as number) + 0.2 * randomInt(rng, 256));
    });
    expect(findTriggerPattern(blended, images(300, 6))).toBeNull();
  });

  it('finds nothing when what they share is too large to be a patch (a class shape)', () => {
    // The whole top half dark: shared, separating, but 50% of the image.
    const shaped = images(30, 7, (img) => img.fill(0, 0, SIZE / 2));
    expect(findTriggerPattern(shaped, images(300, 8))).toBeNull();
  });

  it('needs at least two rows on each side', () => {
    expect(findTriggerPattern(images(1, 9, patch), images(300, 10))).toBeNull();
    expect(findTriggerPattern(images(30, 11, patch), images(1, 12))).toBeNull();
  });
});

describe('patternDistances', () => {
  it('is the mean absolute difference on the pattern pixels', () => {
    const batch = images(2, 13);
    batch.images[0] = 10;
    batch.images[1] = 20;
    batch.images[SIZE] = 0;
    batch.images[SIZE + 1] = 0;
    expect(patternDistances({ pixels: [0, 1], values: [12, 20] }, batch)).toEqual([1, 16]);
  });
});
