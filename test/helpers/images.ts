import { createHash } from 'node:crypto';

/**
 * Deterministic image bytes that DuckDB and the tests can both compute, so a row read back can be
 * checked against the formula rather than against another reader.
 */

/**
 * The `size` bytes of row `row`'s image: MD5 digests of `"<row>-<k>"` for k = 0, 1, ... concatenated.
 * Every row differs and the bytes do not compress, like real pixel noise.
 *
 * @example
 * ```ts
 * expect(decoded.images.subarray(0, 784)).toEqual(md5Image(0, 784));
 * ```
 * @param row - the row's id.
 * @param size - bytes wanted.
 * @returns the bytes.
 * @see md5ImageSql
 */
export function md5Image(row: number | bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let k = 0; k * 16 < size; k++) {
    const digest = createHash('md5').update(`${row}-${k}`).digest();
    out.set(digest.subarray(0, Math.min(16, size - k * 16)), k * 16);
  }
  return out;
}

/**
 * The DuckDB expression computing {@link md5Image} of the integer column or expression `rowExpr`.
 *
 * @example
 * ```ts
 * `SELECT i AS id, ${md5ImageSql('i', 784)} AS image FROM range(100) t(i)`
 * ```
 * @param rowExpr - SQL for the row's id.
 * @param size - bytes wanted.
 * @returns a BLOB-valued SQL expression.
 * @see md5Image
 */
export function md5ImageSql(rowExpr: string, size: number): string {
  const digests: string[] = [];
  for (let k = 0; k * 16 < size; k++) digests.push(`md5((${rowExpr})::VARCHAR || '-${k}')`);
  return `unhex(left(${digests.join(' || ')}, ${2 * size}))`;
}

/**
 * A smooth test picture of `height × width × channels` bytes: gradients that differ per channel and
 * per `seed`. Smooth, so JPEG's error on it stays small.
 *
 * @example
 * ```ts
 * const rgb = gradient(8, 8, 3, 1);
 * ```
 * @param height - rows.
 * @param width - columns.
 * @param channels - values per pixel.
 * @param seed - shifts the picture so different rows get different images.
 * @returns HWC bytes.
 */
export function gradient(height: number, width: number, channels: number, seed = 0): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++)
        out[(y * width + x) * channels + c] = (seed * 17 + y * 8 + x * 4 + c * 60) % 256;
  return out;
}

/**
 * Largest absolute difference between two equally long byte arrays.
 *
 * @example
 * ```ts
 * expect(maxAbsDiff(decoded, original)).toBeLessThanOrEqual(6);
 * ```
 * @param a - first array.
 * @param b - second array, same length.
 * @returns the difference, or Infinity when the lengths differ.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/**
 * Index of the first row whose bytes differ from what `expected` gives for it, or -1 when all match.
 * Much faster than a deep `toEqual` per row on thousands of images, and the failure names the row.
 *
 * @example
 * ```ts
 * expect(firstDifferentRow(rows.images, (i) => md5Image(i, 784))).toBe(-1);
 * ```
 * @param actual - one byte array per row.
 * @param expected - the bytes row `i` should have.
 * @returns the first differing row, or -1.
 */
export function firstDifferentRow(
  actual: readonly Uint8Array[],
  expected: (row: number) => Uint8Array,
): number {
  for (let i = 0; i < actual.length; i++) {
    if (
      !Buffer.from(
        (actual[i] as Uint8Array).buffer,
        (actual[i] as Uint8Array).byteOffset,
        (actual[i] as Uint8Array).length,
      ).equals(expected(i))
    )
      return i;
  }
  return -1;
}
