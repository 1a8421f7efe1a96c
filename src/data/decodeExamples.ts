import { type Data, type DataType, type RecordBatch, Type } from 'apache-arrow';
import { defer, filter, map, type Observable, type OperatorFunction, tap } from 'rxjs';
import { DataError, describeError, ErrorCode } from '../errors.js';
import type { SourceBatch } from '../io/readDataset.js';
import { decodeEncodedImage, encodedImageSize } from './decodeEncodedImage.js';
import type { ExampleBatch } from './exampleBatch.js';
import { formatShape, guessSquareShape, type ImageShape, imageSize, sameShape } from './imageShape.js';
import {
  type ColumnOverrides,
  type DatasetColumns,
  inferColumns,
  isIdLike,
  isImageLike,
  isLabelLike,
} from './inferColumns.js';
import { type ImageCell, imageCellReader } from './readImageCell.js';
import { DEFAULT_MAX_CLASSES, DEFAULT_MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS_CEILING } from './readLimits.js';

/** Options of {@link decodeExamples}. */
export interface DecodeExamplesOptions extends ColumnOverrides {
  /** Dataset name for the error raised when it has no rows at all. */
  readonly source?: string | undefined;
  /** Called once, when the columns have been inferred from the first batch. */
  readonly onColumns?: ((columns: DatasetColumns) => void) | undefined;
  /**
   * Called once, as soon as the images' shape is known (declared, or from the first image), before
   * any more image is decoded: the place to refuse images too large for what comes next. May throw.
   */
  readonly onShape?: ((shape: ImageShape) => void) | undefined;
}

/**
 * The decode stage: turns record batches into {@link ExampleBatch}es of uint8 HWC pixels, integer labels
 * and stable ids, checking every row.
 *
 * <span class="informal">Columns are inferred from the first batch with rows (or taken from the
 * overrides); every later batch must have them, with types that can hold what they held in the first,
 * and every image the same shape.</span>
 *
 * ```text
 * source:          --b0----b1----b2--|
 * decodeExamples:  --e0----e1----e2--|   (e_i.batch === b_i.batch: original columns kept)
 * ```
 *
 * Batches without rows are dropped: they hold nothing to decode, and an empty first batch must not
 * decide the columns (its missing first image would make PNG bytes look like raw pixels).
 *
 * Errors are {@link DataError}s naming the file, column and row: a null, negative, non-integer or
 * out-of-range label; a null, undecodable or differently-shaped image; a null or repeated id; a file
 * whose schema lacks a column or gives it a type that cannot hold its values; and a dataset with no
 * rows at all.
 *
 * @example
 * ```ts
 * readDataset('train.parquet').pipe(decodeExamples({ labelCol: 'y' })).subscribe((e) => console.log(e.ids.length));
 * ```
 * @param options - column overrides and label range.
 * @returns an operator; its state (inferred columns, seen ids) is per subscription.
 * @see readDataset
 */
export function decodeExamples(
  options: DecodeExamplesOptions = {},
): OperatorFunction<SourceBatch, ExampleBatch> {
  return (source: Observable<SourceBatch>) =>
    defer(() => {
      const decoder = createExampleDecoder(options);
      return source.pipe(
        map((sb) => decoder.decode(sb)),
        filter((ex): ex is ExampleBatch => ex !== null),
        tap({ complete: () => decoder.finish() }),
      );
    });
}

/** The decode stage's state machine, for pull-based consumers; see {@link createExampleDecoder}. */
export interface ExampleDecoder {
  /** Decodes and checks one batch; null for a batch without rows. */
  decode(sb: SourceBatch): ExampleBatch | null;
  /** Call at the end of the data: throws EmptyDataset when no row was seen. */
  finish(): void;
}

/**
 * The decode stage as a plain object, for consumers that pull batches one at a time and do
 * asynchronous work per batch (writing files), where an Observable would buffer without bound.
 * Same checks and errors as {@link decodeExamples}, which is built on it.
 *
 * @example
 * ```ts
 * const decoder = createExampleDecoder({ source: 'train/' });
 * for await (const sb of iterateDataset('train/')) {
 *   const ex = decoder.decode(sb);
 *   if (ex) await write(ex);
 * }
 * decoder.finish();
 * ```
 * @param options - column overrides and label range.
 * @returns a decoder holding the inferred columns and the ids seen so far.
 * @see decodeExamples
 */
export function createExampleDecoder(options: DecodeExamplesOptions = {}): ExampleDecoder {
  let columns: DatasetColumns | null = null;
  let first: SourceBatch | null = null;
  let shape: ImageShape | null = null;
  let shapeSeen = false;
  let rows = 0;
  const seenIds = new Map<string, string>();
  return {
    decode(sb) {
      // Batches without rows hold nothing to decode, and an empty first batch must not decide the
      // columns (its missing first image would make PNG bytes look like raw pixels).
      if (sb.batch.numRows === 0) return null;
      if (columns === null) {
        columns = inferColumns(sb.batch.schema, (name) => firstCells(sb.batch, name), options, sb.file.path);
        first = sb;
        shape = columns.image.shape;
        options.onColumns?.(columns);
      }
      checkSchema(sb, columns, first ?? sb);
      const labels = readLabels(sb, columns.label, labelLimit(options, columns));
      const decoded = readImages(
        sb,
        columns,
        shape,
        options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
        (s) => {
          if (!shapeSeen) options.onShape?.(s);
          shapeSeen = true;
        },
      );
      shape = decoded.shape;
      const ids = readIds(sb, columns.id, seenIds);
      rows += sb.batch.numRows;
      return {
        ids,
        images: decoded.images,
        labels,
        shape: decoded.shape,
        batch: sb.batch,
        file: sb.file,
        rowOffset: sb.rowOffset,
      };
    },
    finish() {
      if (rows === 0) {
        throw new DataError(ErrorCode.EmptyDataset, 'dataset has no rows', {
          location: options.source === undefined ? {} : { file: options.source },
        });
      }
    },
  };
}

/** Cells the image encoding is told from: more than one, so a damaged first image cannot decide it. */
const ENCODING_SAMPLE = 16;

function firstCells(batch: RecordBatch, column: string): Uint8Array[] {
  const data = batch.getChild(column)?.data[0];
  if (!data) return [];
  const t = data.type.typeId;
  if (t !== Type.Binary && t !== Type.LargeBinary && t !== Type.FixedSizeBinary) return [];
  const read = imageCellReader(data);
  const cells: Uint8Array[] = [];
  for (let r = 0; r < data.length && cells.length < ENCODING_SAMPLE; r++) {
    const cell = read(r);
    if (cell?.kind === 'bytes') cells.push(cell.bytes);
  }
  return cells;
}

function column(sb: SourceBatch, name: string): Data {
  const data = sb.batch.getChild(name)?.data[0];
  if (!data) {
    throw new DataError(
      ErrorCode.SchemaMismatch,
      `column '${name}' is missing from this file (other files of the dataset have it)`,
      {
        location: { file: sb.file.path, column: name },
      },
    );
  }
  return data;
}

/** A column every batch must have: its name, the types that can hold its values, and what those are. */
type ColumnCheck = readonly [name: string, ok: (t: DataType) => boolean, holds: string];

function checkSchema(sb: SourceBatch, columns: DatasetColumns, first: SourceBatch): void {
  // Every file must have the columns, with types that can still hold images, labels and ids: binary
  // in one file and list in another is fine (both give pixels), strings where labels were are not.
  const wanted: ColumnCheck[] = [
    [columns.image.name, isImageLike, 'images'],
    [columns.label, isLabelLike, 'class labels'],
  ];
  if (columns.id) wanted.push([columns.id, isIdLike, 'ids']);
  for (const [name, ok, holds] of wanted) {
    const type = column(sb, name).type;
    if (!ok(type)) {
      const before = first.batch.getChild(name)?.type;
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `column '${name}' has type ${type}, which cannot hold ${holds} (it is ${before} in ${first.file.path})`,
        { location: { file: sb.file.path, column: name } },
      );
    }
  }
}

/** The bound labels must stay below: the classes the data or the user declares, else the class limit. */
interface LabelLimit {
  readonly below: number;
  /** Whether the bound is the class limit (a guard against stray values), not a declared count. */
  readonly guard: boolean;
}

function labelLimit(options: DecodeExamplesOptions, columns: DatasetColumns): LabelLimit {
  const declared = options.numClasses ?? columns.classNames?.length;
  return declared !== undefined
    ? { below: declared, guard: false }
    : { below: options.maxClasses ?? DEFAULT_MAX_CLASSES, guard: true };
}

function readLabels(sb: SourceBatch, name: string, limit: LabelLimit): Int32Array {
  const data = column(sb, name);
  const vector = sb.batch.getChild(name);
  const n = sb.batch.numRows;
  const labels = new Int32Array(n);
  const at = (row: number) => ({ file: sb.file.path, column: name, row: sb.rowOffset + row });
  for (let r = 0; r < n; r++) {
    if (data.nullCount > 0 && !data.getValid(r))
      throw new DataError(ErrorCode.BadLabel, 'label is null', { location: at(r) });
    const raw: unknown = vector?.get(r);
    const v = typeof raw === 'bigint' ? Number(raw) : (raw as number);
    if (!Number.isFinite(v))
      throw new DataError(ErrorCode.BadLabel, `label is ${v}, not a number`, { location: at(r) });
    if (!Number.isInteger(v))
      throw new DataError(ErrorCode.BadLabel, `label ${v} is not an integer`, { location: at(r) });
    if (v < 0) throw new DataError(ErrorCode.BadLabel, `label ${v} is negative`, { location: at(r) });
    if (v >= limit.below && limit.guard) {
      throw new DataError(
        ErrorCode.TooManyClasses,
        `label ${v} is above the class limit: labels must be below ${limit.below} unless the data's class names or --num-classes declare more classes (--max-classes raises the limit)`,
        { location: at(r) },
      );
    }
    if (v >= limit.below) {
      throw new DataError(
        ErrorCode.BadLabel,
        `label ${v} is out of range: the data has ${limit.below} classes (0-${limit.below - 1})`,
        { location: at(r) },
      );
    }
    labels[r] = v;
  }
  return labels;
}

function readImages(
  sb: SourceBatch,
  columns: DatasetColumns,
  known: ImageShape | null,
  maxPixels: number,
  onShape: (shape: ImageShape) => void,
): { images: Uint8Array; shape: ImageShape } {
  const name = columns.image.name;
  const read = imageCellReader(column(sb, name));
  const n = sb.batch.numRows;
  const encoded = columns.image.encoding === 'encoded' || columns.image.encoding === 'hf-image';
  let shape = known;
  // A declared shape (metadata, --image-shape) is checked before the batch's pixels are allocated.
  checkPixels(shape, maxPixels, { file: sb.file.path, column: name, row: sb.rowOffset });
  if (shape) onShape(shape);
  let out: Uint8Array | null = shape ? new Uint8Array(n * imageSize(shape)) : null;
  for (let r = 0; r < n; r++) {
    const at = { file: sb.file.path, column: name, row: sb.rowOffset + r };
    const cell = read(r);
    if (cell === null) throw new DataError(ErrorCode.BadImage, 'image is null', { location: at });
    let pixels: Uint8Array;
    let cellShape: ImageShape | null;
    if (encoded) {
      if (cell.kind !== 'bytes')
        throw new DataError(ErrorCode.BadImage, 'expected encoded image bytes', { location: at });
      // Checked from the header before decoding: a small file can declare an enormous image.
      checkPixels(encodedImageSize(cell.bytes), maxPixels, at);
      try {
        const img = decodeEncodedImage(cell.bytes);
        pixels = img.pixels;
        cellShape = img.shape;
      } catch (cause) {
        throw new DataError(ErrorCode.BadImage, `cannot decode image: ${describeError(cause)}`, {
          cause,
          location: at,
        });
      }
    } else {
      pixels = toBytes(cell, at);
      cellShape = shape ?? guessSquareShape(pixels.length);
      checkPixels(cellShape, maxPixels, at);
      if (cellShape === null) {
        throw new DataError(
          ErrorCode.BadImage,
          `cannot tell the shape of a ${pixels.length}-value image (not a square of 1 or 3 channels); give --image-shape HxWxC`,
          { location: at },
        );
      }
    }
    if (shape === null) {
      shape = cellShape;
      onShape(shape);
      out = new Uint8Array(n * imageSize(shape));
    }
    if (encoded && isGreyOf(cellShape, shape)) {
      // Colour JPEG/PNG datasets often hold a few greyscale pictures (and a grey JPEG decodes to one
      // channel): repeat the grey value into R, G and B rather than reject the dataset.
      pixels = greyToRgb(pixels);
      cellShape = shape;
    }
    if (!sameShape(shape, cellShape) || pixels.length !== imageSize(shape)) {
      const got = encoded ? formatShape(cellShape) : `${pixels.length} values`;
      const hint =
        encoded && isGreyOf(shape, cellShape)
          ? `; if the images are colour, give --image-shape ${formatShape(cellShape)} to expand the grey ones`
          : '';
      throw new DataError(
        ErrorCode.MixedImageShapes,
        `image is ${got} but earlier images are ${formatShape(shape)} (${imageSize(shape)} values); all images must have one size${hint}`,
        { location: at },
      );
    }
    (out as Uint8Array).set(pixels, r * pixels.length);
  }
  if (shape === null || out === null)
    return { images: new Uint8Array(0), shape: known ?? { height: 0, width: 0, channels: 0 } };
  return { images: out, shape };
}

/** Refuses an image of more pixels than the limit (before it is decoded, when it comes from a header). */
function checkPixels(
  size: { readonly height: number; readonly width: number } | null,
  maxPixels: number,
  at: { file: string; column: string; row: number },
): void {
  if (size === null || size.height * size.width <= maxPixels) return;
  const pixels = size.height * size.width;
  // Beyond what any limit allows, the size is most likely a damaged header or a wrong declared shape.
  const hint =
    pixels > MAX_IMAGE_PIXELS_CEILING
      ? `beyond any image abl-audit reads (${MAX_IMAGE_PIXELS_CEILING.toLocaleString('en-US')}): a damaged image header, or a declared shape (--image-shape, metadata) that does not match the data?`
      : '--max-image-pixels raises it';
  throw new DataError(
    ErrorCode.ImageTooLarge,
    `image is ${size.height}×${size.width}, ${(BigInt(size.height) * BigInt(size.width)).toLocaleString('en-US')} pixels, above the limit of ${maxPixels.toLocaleString('en-US')} (${hint})`,
    { location: at },
  );
}

/** True when `grey` is a one-channel image of the same height and width as the three-channel `rgb`. */
function isGreyOf(grey: ImageShape, rgb: ImageShape): boolean {
  return grey.channels === 1 && rgb.channels === 3 && grey.height === rgb.height && grey.width === rgb.width;
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb.fill(grey[i] as number, 3 * i, 3 * i + 3);
  return rgb;
}

function toBytes(cell: ImageCell, at: { file: string; column: string; row: number }): Uint8Array {
  if (cell.kind === 'bytes') return cell.bytes;
  const out = new Uint8Array(cell.length);
  for (let i = 0; i < cell.length; i++) {
    const v = cell.values[cell.start + i] as number;
    if (!(v >= 0 && v <= 255)) {
      throw new DataError(ErrorCode.BadImage, `pixel ${i} is ${v}; expected a number in 0-255`, {
        location: at,
      });
    }
    out[i] = Math.round(v);
  }
  return out;
}

function readIds(sb: SourceBatch, name: string | null, seen: Map<string, string>): string[] {
  const n = sb.batch.numRows;
  const ids = new Array<string>(n);
  const vector = name ? sb.batch.getChild(name) : null;
  const data = name ? column(sb, name) : null;
  for (let r = 0; r < n; r++) {
    const row = sb.rowOffset + r;
    const where = `${sb.file.relPath}#${row}`;
    let id: string;
    if (vector && data && name) {
      if (data.nullCount > 0 && !data.getValid(r)) {
        throw new DataError(ErrorCode.BadId, 'id is null', {
          location: { file: sb.file.path, column: name, row },
        });
      }
      id = String(vector.get(r));
      const first = seen.get(id);
      if (first !== undefined) {
        throw new DataError(ErrorCode.DuplicateId, `id '${id}' repeats the id of ${first}`, {
          location: { file: sb.file.path, column: name, row },
        });
      }
      seen.set(id, where);
    } else {
      id = where;
    }
    ids[r] = id;
  }
  return ids;
}
