import type { ImageShape } from '../data/imageShape.js';
import { UsageError } from '../errors.js';
import { mulberry32, type Rng } from '../util/random.js';
import { checkImage, type Trigger } from './types.js';

/** Options of {@link wanetTrigger} and {@link wanetNoiseTrigger}. */
export interface WanetTriggerOptions {
  /** Side of the random control grid, an integer from 2 to min(H, W) (default 4). */
  readonly k?: number | undefined;
  /** Strength of the warp, a number ≥ 0 (default 0.5); 0 leaves images unchanged. */
  readonly s?: number | undefined;
  /** Factor the whole warped grid is multiplied by, a number > 0 (default 1, no rescaling). */
  readonly gridRescale?: number | undefined;
  /** Seed of the control grid; the noise mode's offsets come from seed + 1. */
  readonly seed: number;
  /** Build the noise-mode trigger instead (see {@link wanetNoiseTrigger}). Default false. */
  readonly noise?: boolean | undefined;
}

/** Height and width of a 2-D field of numbers stored row-major. */
export interface FieldSize {
  readonly height: number;
  readonly width: number;
}

/** The Keys cubic-convolution parameter PyTorch's bicubic interpolation uses. */
const CUBIC_A = -0.75;

/** A sampling grid in normalised coordinates: −1 is the first pixel's centre, +1 the last one's. */
interface Grid {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/**
 * Makes a WaNet trigger (Nguyen & Tran, ICLR 2021): a small, smooth, fixed warp of the whole image.
 *
 * <span class="informal">A k×k×2 field of uniform values in [−1, 1) is drawn from `mulberry32(seed)`
 * (all x offsets row-major, then all y offsets) and divided by the mean of its absolute values. It is
 * upsampled to H×W with bicubic interpolation (align_corners=True, Keys a = −0.75, as PyTorch's
 * `F.interpolate`) and added to the identity grid: grid = clamp((identity + s·field/H)·gridRescale,
 * −1, 1), where the identity's x comes from the column and y from the row, −1 + 2·i/(N − 1). Each
 * image is then sampled at the grid with bilinear interpolation (align_corners=True, zeros outside)
 * per channel and rounded to uint8. The grid is computed once per image size and reused, so every
 * image gets the same warp. With `noise: true` this returns {@link wanetNoiseTrigger} instead.</span>
 *
 * @example
 * ```ts
 * const trigger = wanetTrigger({ k: 4, s: 0.5, seed: 1 });
 * const poisoned = trigger.apply(image, { height: 28, width: 28, channels: 1 });
 * ```
 * @param options - the control-grid size k, warp strength s, grid rescale, seed, and noise mode.
 * @returns a dirty-label {@link Trigger} named `'wanet'` (clean-label in noise mode).
 * @throws UsageError when k is not an integer ≥ 2, s is negative, gridRescale is not > 0, or the seed is
 *   not an integer; at `apply`, when k exceeds the image's height or width.
 * @see wanetNoiseTrigger
 */
export function wanetTrigger(options: WanetTriggerOptions): Trigger {
  if (options.noise === true) return wanetNoiseTrigger(options);
  const warp = makeWarp(options);
  return {
    name: 'wanet',
    cleanLabel: false,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      const grid = warp.gridFor(shape);
      return bilinearSample(image, shape, grid.x, grid.y);
    },
  };
}

/**
 * Makes WaNet's noise-mode trigger: the same warp as {@link wanetTrigger} plus fresh random jitter on
 * every call, for the "cross" samples that keep their true label.
 *
 * <span class="informal">WaNet trains on such samples so that the model learns the exact warp, not any
 * warp. Each call adds uniform offsets in [−1, 1)/H to the warped grid (x then y for each pixel,
 * row-major) and clamps it to [−1, 1] again. The offsets come from one generator seeded with seed + 1
 * (mod 2³²) that advances with every call, so the result depends on call order: to reproduce a
 * poisoned data set, apply it to the rows in a fixed order, e.g. ascending row index. Unlike the
 * other triggers, calling `apply` therefore changes the trigger's state (never the image).</span>
 *
 * @example
 * ```ts
 * const cross = wanetNoiseTrigger({ seed: 1 });
 * const a = cross.apply(image, shape); // differs from the next call's result
 * const b = cross.apply(image, shape);
 * ```
 * @param options - the same options as {@link wanetTrigger}; `noise` is ignored.
 * @returns a clean-label {@link Trigger} named `'wanet'`.
 * @throws UsageError as {@link wanetTrigger} does.
 * @see wanetTrigger
 */
export function wanetNoiseTrigger(options: WanetTriggerOptions): Trigger {
  const warp = makeWarp(options);
  // ToUint32 first, so that the largest safe seeds still give an integer seed after adding 1.
  const rng: Rng = mulberry32(((options.seed >>> 0) + 1) >>> 0);
  return {
    name: 'wanet',
    cleanLabel: true,
    apply(image: Uint8Array, shape: ImageShape): Uint8Array {
      checkImage(image, shape);
      const grid = warp.gridFor(shape);
      const n = grid.x.length;
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const h = shape.height;
      for (let i = 0; i < n; i++) {
        x[i] = clamp1((grid.x[i] as number) + (rng() * 2 - 1) / h);
        y[i] = clamp1((grid.y[i] as number) + (rng() * 2 - 1) / h);
      }
      return bilinearSample(image, shape, x, y);
    },
  };
}

interface Warp {
  gridFor(shape: ImageShape): Grid;
}

function makeWarp(options: WanetTriggerOptions): Warp {
  const k = options.k ?? 4;
  const s = options.s ?? 0.5;
  const gridRescale = options.gridRescale ?? 1;
  if (!Number.isInteger(k) || k < 2) {
    throw new UsageError(
      `wanet k must be an integer ≥ 2 (and at most the image's height and width), got ${k}`,
    );
  }
  if (!(Number.isFinite(s) && s >= 0)) {
    throw new UsageError(`wanet s must be a number ≥ 0, got ${s}`);
  }
  if (!(Number.isFinite(gridRescale) && gridRescale > 0)) {
    throw new UsageError(`wanet gridRescale must be a number > 0, got ${gridRescale}`);
  }
  const control = controlField(k, options.seed);
  // The grid depends only on the image size (not its channels), and recomputing the upsampling for
  // every image would cost more than the warp itself.
  const grids = new Map<string, Grid>();
  return {
    gridFor(shape: ImageShape): Grid {
      const key = `${shape.height}x${shape.width}`;
      let grid = grids.get(key);
      if (grid === undefined) {
        grid = warpedGrid(control, k, s, gridRescale, shape);
        grids.set(key, grid);
      }
      return grid;
    },
  };
}

function controlField(k: number, seed: number): Grid {
  const rng = mulberry32(seed);
  const n = k * k;
  const all = new Float64Array(2 * n);
  let sumAbs = 0;
  for (let i = 0; i < all.length; i++) {
    const v = rng() * 2 - 1;
    all[i] = v;
    sumAbs += Math.abs(v);
  }
  // Dividing by the mean magnitude makes s, not the luck of the draw, set the warp's strength.
  const meanAbs = sumAbs / all.length;
  for (let i = 0; i < all.length; i++) all[i] = (all[i] as number) / meanAbs;
  return { x: all.subarray(0, n), y: all.subarray(n) };
}

function warpedGrid(control: Grid, k: number, s: number, gridRescale: number, shape: ImageShape): Grid {
  const { height, width } = shape;
  if (k > height || k > width) {
    throw new UsageError(
      `wanet k = ${k} is larger than the ${height}x${width} image; expected k ≤ ${Math.min(height, width)}`,
    );
  }
  const from = { height: k, width: k };
  const to = { height, width };
  const fx = bicubicUpsample(control.x, from, to);
  const fy = bicubicUpsample(control.y, from, to);
  const x = new Float64Array(height * width);
  const y = new Float64Array(height * width);
  // Both offsets are divided by H, as in the reference (written for square images).
  const scale = s / height;
  for (let r = 0; r < height; r++) {
    const idY = -1 + (2 * r) / (height - 1);
    for (let c = 0; c < width; c++) {
      const i = r * width + c;
      const idX = -1 + (2 * c) / (width - 1);
      x[i] = clamp1((idX + scale * (fx[i] as number)) * gridRescale);
      y[i] = clamp1((idY + scale * (fy[i] as number)) * gridRescale);
    }
  }
  return { x, y };
}

function clamp1(v: number): number {
  return Math.min(Math.max(v, -1), 1);
}

/**
 * Upsamples (or resizes) a 2-D field with bicubic interpolation, as PyTorch's
 * `F.interpolate(mode='bicubic', align_corners=True)`.
 *
 * <span class="informal">align_corners=True maps the first and last output samples onto the first and
 * last input samples, so corner values are reproduced exactly. Output index o reads input position
 * o·(in − 1)/(out − 1) through Keys' cubic kernel with a = −0.75 over the four nearest samples, indices
 * past the border clamped to it; rows and columns are interpolated separably.</span>
 *
 * @example
 * ```ts
 * bicubicUpsample(Float64Array.of(0, 1, 2, 3), { height: 2, width: 2 }, { height: 4, width: 4 });
 * ```
 * @param values - the input field, row-major, `from.height × from.width` numbers.
 * @param from - the input field's size.
 * @param to - the output field's size.
 * @returns a new row-major field of `to.height × to.width` numbers.
 * @throws UsageError when a size is not a positive integer or `values` has the wrong length.
 * @see bilinearSample
 */
export function bicubicUpsample(values: ArrayLike<number>, from: FieldSize, to: FieldSize): Float64Array {
  for (const [what, size] of [
    ['input', from],
    ['output', to],
  ] as const) {
    if (![size.height, size.width].every((d) => Number.isInteger(d) && d >= 1)) {
      throw new UsageError(`bicubic ${what} size ${size.height}x${size.width}: expected positive integers`);
    }
  }
  if (values.length !== from.height * from.width) {
    throw new UsageError(
      `bicubic input has ${values.length} values; expected ${from.height * from.width} for ${from.height}x${from.width}`,
    );
  }
  const cols = cubicTaps(from.width, to.width);
  const rows = cubicTaps(from.height, to.height);
  const out = new Float64Array(to.height * to.width);
  for (let oy = 0; oy < to.height; oy++) {
    for (let ox = 0; ox < to.width; ox++) {
      let sum = 0;
      for (let j = 0; j < 4; j++) {
        const rowBase = (rows.index[4 * oy + j] as number) * from.width;
        let across = 0;
        for (let i = 0; i < 4; i++) {
          across +=
            (cols.weight[4 * ox + i] as number) *
            (values[rowBase + (cols.index[4 * ox + i] as number)] as number);
        }
        sum += (rows.weight[4 * oy + j] as number) * across;
      }
      out[oy * to.width + ox] = sum;
    }
  }
  return out;
}

/** For each output index along one axis, its four input indices (clamped) and their cubic weights. */
function cubicTaps(inSize: number, outSize: number): { index: Int32Array; weight: Float64Array } {
  const index = new Int32Array(4 * outSize);
  const weight = new Float64Array(4 * outSize);
  for (let o = 0; o < outSize; o++) {
    // Multiplying before dividing keeps the last position exactly in − 1, so the corner is exact.
    const real = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    const base = Math.min(Math.floor(real), inSize - 1);
    const t = real - base;
    const w = [keysFar(t + 1), keysNear(t), keysNear(1 - t), keysFar(2 - t)];
    for (let i = 0; i < 4; i++) {
      index[4 * o + i] = Math.min(Math.max(base - 1 + i, 0), inSize - 1);
      weight[4 * o + i] = w[i] as number;
    }
  }
  return { index, weight };
}

/** Keys' kernel for distances |d| ≤ 1. */
function keysNear(d: number): number {
  return ((CUBIC_A + 2) * d - (CUBIC_A + 3)) * d * d + 1;
}

/** Keys' kernel for distances 1 < |d| < 2. */
function keysFar(d: number): number {
  return ((CUBIC_A * d - 5 * CUBIC_A) * d + 8 * CUBIC_A) * d - 4 * CUBIC_A;
}

/**
 * Samples an image at a grid of normalised coordinates with bilinear interpolation, as PyTorch's
 * `F.grid_sample(mode='bilinear', padding_mode='zeros', align_corners=True)`.
 *
 * <span class="informal">Output pixel i reads the input at column (gridX[i] + 1)/2·(W − 1) and row
 * (gridY[i] + 1)/2·(H − 1), blending the four surrounding pixels per channel; neighbours outside the
 * image count as 0. The result is rounded to the nearest integer and clamped to 0..255. The identity
 * grid −1 + 2·i/(N − 1) returns the image unchanged.</span>
 *
 * @example
 * ```ts
 * const shape = { height: 1, width: 2, channels: 1 };
 * bilinearSample(Uint8Array.of(0, 100), shape, Float64Array.of(0, 0), Float64Array.of(0, 0)); // [50, 50]
 * ```
 * @param image - H×W×C uint8 pixels, row-major HWC; not modified.
 * @param shape - the image's shape.
 * @param gridX - H·W normalised x (column) coordinates, one per output pixel, row-major.
 * @param gridY - H·W normalised y (row) coordinates, one per output pixel, row-major.
 * @returns a new image of the same shape.
 * @throws UsageError when a grid does not hold H·W coordinates; DataError when the image does not match
 *   its shape.
 * @see bicubicUpsample
 */
export function bilinearSample(
  image: Uint8Array,
  shape: ImageShape,
  gridX: ArrayLike<number>,
  gridY: ArrayLike<number>,
): Uint8Array {
  checkImage(image, shape);
  const { height, width, channels } = shape;
  const n = height * width;
  if (gridX.length !== n || gridY.length !== n) {
    throw new UsageError(
      `sampling grid has ${gridX.length} x and ${gridY.length} y coordinates; expected ${n} of each for ${height}x${width}`,
    );
  }
  const out = new Uint8Array(image.length);
  const acc = new Float64Array(channels);
  for (let i = 0; i < n; i++) {
    const px = (((gridX[i] as number) + 1) / 2) * (width - 1);
    const py = (((gridY[i] as number) + 1) / 2) * (height - 1);
    const x0 = Math.floor(px);
    const y0 = Math.floor(py);
    const fx = px - x0;
    const fy = py - y0;
    acc.fill(0);
    addCorner(image, shape, x0, y0, (1 - fx) * (1 - fy), acc);
    addCorner(image, shape, x0 + 1, y0, fx * (1 - fy), acc);
    addCorner(image, shape, x0, y0 + 1, (1 - fx) * fy, acc);
    addCorner(image, shape, x0 + 1, y0 + 1, fx * fy, acc);
    for (let c = 0; c < channels; c++) {
      const v = Math.round(acc[c] as number);
      out[i * channels + c] = Math.min(Math.max(v, 0), 255);
    }
  }
  return out;
}

function addCorner(
  image: Uint8Array,
  shape: ImageShape,
  x: number,
  y: number,
  w: number,
  acc: Float64Array,
): void {
  // Zero padding: a neighbour outside the image adds nothing. (A NaN coordinate fails both tests too.)
  if (!(x >= 0 && x < shape.width && y >= 0 && y < shape.height) || w === 0) return;
  const base = (y * shape.width + x) * shape.channels;
  for (let c = 0; c < shape.channels; c++) acc[c] = (acc[c] as number) + w * (image[base + c] as number);
}
