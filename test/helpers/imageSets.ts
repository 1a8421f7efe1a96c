import { encode as encodePng } from 'fast-png';
import { IMAGE_SHAPE_METADATA_KEY } from '../../src/data/imageShape.js';
import { binaryData, column, int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns.js';
import { writeParquet } from '../../src/io/writeParquet.js';

/** Options of {@link writeImageSet}. */
export interface ImageSetOptions {
  readonly rows: number;
  /** Each row's label (default: row % 4). */
  readonly label?: (row: number) => number;
  /** The label column's name (default `label`). */
  readonly labelColumn?: string;
  /** Extra integer columns, by name: each row's value. */
  readonly extra?: Readonly<Record<string, (row: number) => number>>;
  /** Each row's image cell (default: 8×8 raw grey bytes, distinct per label). */
  readonly image?: (row: number) => Uint8Array;
  /** `abl_audit.image_shape` metadata, e.g. `8,8,1` (default), or null for none. */
  readonly shape?: string | null;
}

/**
 * Writes a small image set as Parquet (`id`, `image`, the label column and any extra columns), with
 * whatever odd labels, columns or cells a test of bad input needs.
 *
 * @param path - the file to write.
 * @param options - rows, labels, columns and cells.
 */
export async function writeImageSet(path: string, options: ImageSetOptions): Promise<void> {
  const { rows } = options;
  const labelOf = options.label ?? ((r: number) => r % 4);
  const imageOf =
    options.image ??
    ((r: number) =>
      Uint8Array.from({ length: 64 }, (_, p) => (Math.floor(p / 16) === labelOf(r) % 4 ? 220 : 20)));
  const cells = Array.from({ length: rows }, (_, r) => imageOf(r));
  const offsets = new Int32Array(rows + 1);
  cells.forEach((c, r) => {
    offsets[r + 1] = (offsets[r] as number) + c.length;
  });
  const data = new Uint8Array(offsets[rows] as number);
  cells.forEach((c, r) => {
    data.set(c, offsets[r] as number);
  });
  const columns = [
    column('id', utf8Data(Array.from({ length: rows }, (_, r) => `r${r}`))),
    column('image', binaryData(offsets, data)),
    column(
      options.labelColumn ?? 'label',
      int32Data(Int32Array.from({ length: rows }, (_, r) => labelOf(r))),
    ),
    ...Object.entries(options.extra ?? {}).map(([name, f]) =>
      column(name, int32Data(Int32Array.from({ length: rows }, (_, r) => f(r)))),
    ),
  ];
  const shape = options.shape === undefined ? '8,8,1' : options.shape;
  const metadata = new Map(shape === null ? [] : [[IMAGE_SHAPE_METADATA_KEY, shape]]);
  await writeParquet(path, [recordBatchOf(columns, metadata)]);
}

/**
 * A grey PNG of the given size, small whatever the size (zeros compress): what a decompression bomb
 * declares is only known from its header.
 *
 * @param width - pixels.
 * @param height - pixels.
 * @returns the PNG file's bytes.
 */
export function greyPng(width: number, height: number): Uint8Array {
  return encodePng({ width, height, data: new Uint8Array(width * height), channels: 1, depth: 8 });
}
