import { type DataType, type Field, type Schema, Type } from 'apache-arrow';
import { DataError, ErrorCode } from '../errors.js';
import { looksEncoded } from './decodeEncodedImage.js';
import {
  CLASS_NAMES_METADATA_KEY,
  IMAGE_SHAPE_METADATA_KEY,
  type ImageShape,
  parseShape,
} from './imageShape.js';

/**
 * How images are stored in the image column:
 * - `raw-bytes`: binary or fixed-size-binary cells of H×W×C uint8 pixels;
 * - `fixed-size-list`: fixed-size lists of numbers, possibly nested H→W→C;
 * - `list`: variable-length lists of numbers (one image per cell, flat);
 * - `encoded`: binary cells holding PNG or JPEG files;
 * - `hf-image`: the Hugging Face datasets image struct `{bytes, path}` with PNG/JPEG bytes.
 */
export type ImageEncoding = 'raw-bytes' | 'fixed-size-list' | 'list' | 'encoded' | 'hf-image';

/** The image column, how it is encoded and, where known before decoding, the image shape. */
export interface ImageColumnSpec {
  readonly name: string;
  readonly encoding: ImageEncoding;
  /** Null for encoded images until the first one is decoded. */
  readonly shape: ImageShape | null;
}

/** Which columns hold what. */
export interface DatasetColumns {
  readonly image: ImageColumnSpec;
  readonly label: string;
  /** Null when rows get ids derived from file and position. */
  readonly id: string | null;
  /** From schema metadata (`abl_audit.class_names`, or Hugging Face ClassLabel features) when present. */
  readonly classNames: readonly string[] | null;
  /**
   * The column naming each row's upstream source (`--source-col`); null: a file's hive partition
   * `source=…` names its rows' source, else the file itself.
   */
  readonly source: string | null;
}

/**
 * How to read a dataset's columns, as given by `--image-col`, `--label-col`, `--id-col`,
 * `--image-shape`, and the limits on what they may hold (`--num-classes`, `--max-classes`,
 * `--max-image-pixels`; see readLimits.ts).
 */
export interface ColumnOverrides {
  readonly imageCol?: string | undefined;
  readonly labelCol?: string | undefined;
  readonly idCol?: string | undefined;
  /** The column naming each row's source (default: a hive partition `source=…`, else the file). */
  readonly sourceCol?: string | undefined;
  readonly imageShape?: ImageShape | undefined;
  /**
   * Number of classes: labels must lie in [0, numClasses), and classes without rows are allowed.
   * Defaults to the length of the class names in the data's metadata when there are some.
   */
  readonly numClasses?: number | undefined;
  /** Without class names or `numClasses`, labels must be below this (default 1,000). */
  readonly maxClasses?: number | undefined;
  /** Images may hold at most this many pixels, checked before decoding (default 2048 × 2048). */
  readonly maxImagePixels?: number | undefined;
}

const IMAGE_NAMES = ['image', 'img', 'images', 'pixels', 'pixel_values', 'x', 'data'];
const LABEL_NAMES = [
  'label',
  'labels',
  'target',
  'targets',
  'y',
  'class',
  'class_id',
  'label_id',
  'fine_label',
  'coarse_label',
  'category',
  'category_id',
];
const ID_NAMES = ['id', 'row_id', 'example_id', 'uid', 'key'];

/**
 * Finds the image, label and id columns of a dataset from its Arrow schema, the first rows and the
 * user's overrides, and tells how the images are encoded.
 *
 * <span class="informal">Well-known names first (image, label, id, ...), then types: the first
 * binary/list/image-struct column is the image. The label is never guessed from its type: an
 * unrelated integer column (an image's height) taken for it would train a model without a word, so a
 * label column must have a label's name or be given.</span>
 *
 * @param schema - the schema of the first batch.
 * @param imageCells - bytes of the first non-null binary image cells (up to 16), used to tell PNG/JPEG
 *   from raw: most of them decide, so that one damaged first image is reported as damaged rather than
 *   turning the column into raw pixels.
 * @param file - named in errors.
 * @throws DataError naming the file and listing the columns when no suitable column exists.
 */
export function inferColumns(
  schema: Schema,
  imageCells: (column: string) => readonly Uint8Array[],
  overrides: ColumnOverrides,
  file: string,
): DatasetColumns {
  const fields = schema.fields;
  const listing = fields.map((f) => `${f.name}: ${f.type}`).join(', ');
  const byName = (name: string, what: string): Field => {
    const f = fields.find((x) => x.name === name);
    if (!f) {
      throw new DataError(
        ErrorCode.SchemaMismatch,
        `no column '${name}' (asked for as the ${what} column); columns are: ${listing}`,
        {
          location: { file },
        },
      );
    }
    return f;
  };

  const imageField = overrides.imageCol
    ? byName(overrides.imageCol, 'image')
    : (pickByName(fields, IMAGE_NAMES, isImageLike) ?? fields.find((f) => isImageLike(f.type)));
  if (!imageField || !isImageLike(imageField.type)) {
    throw new DataError(
      ErrorCode.NoImageColumn,
      imageField
        ? `column '${imageField.name}' has type ${imageField.type}, which cannot hold images (expected binary, fixed-size list, list of numbers, or a {bytes, path} struct)`
        : `no image column found (expected binary, fixed-size list, list of numbers, or a {bytes, path} struct; use --image-col); columns are: ${listing}`,
      { location: { file, ...(imageField ? { column: imageField.name } : {}) } },
    );
  }

  const idField = overrides.idCol ? byName(overrides.idCol, 'id') : pickByName(fields, ID_NAMES, isIdLike);
  if (idField && !isIdLike(idField.type)) {
    throw new DataError(ErrorCode.BadId, `id column has type ${idField.type}; expected strings or integers`, {
      location: { file, column: idField.name },
    });
  }

  const labelField = overrides.labelCol
    ? byName(overrides.labelCol, 'label')
    : pickByName(fields, LABEL_NAMES, isLabelLike);
  if (!labelField) {
    const candidates = fields.filter((f) => f !== imageField && f !== idField && isLabelLike(f.type));
    throw new DataError(
      ErrorCode.NoLabelColumn,
      `no label column found: none is named ${LABEL_NAMES.slice(0, 6).join(', ')}, … ${
        candidates.length > 0
          ? `; if one of ${candidates.map((f) => f.name).join(', ')} holds the class labels, give it with --label-col`
          : '; give the label column with --label-col'
      }; columns are: ${listing}`,
      { location: { file } },
    );
  }
  if (!isLabelLike(labelField.type)) {
    throw new DataError(
      ErrorCode.BadLabel,
      `label column has type ${labelField.type}; expected integer class indices`,
      {
        location: { file, column: labelField.name },
      },
    );
  }

  const image = describeImageColumn(imageField, schema, imageCells, overrides.imageShape, file);
  return {
    image,
    label: labelField.name,
    id: idField?.name ?? null,
    classNames: readClassNames(schema, labelField.name),
    source: overrides.sourceCol ? byName(overrides.sourceCol, 'source').name : null,
  };
}

function pickByName(
  fields: readonly Field[],
  names: readonly string[],
  ok: (t: DataType) => boolean,
): Field | undefined {
  for (const name of names) {
    const f = fields.find((x) => x.name.toLowerCase() === name);
    if (f && ok(f.type)) return f;
  }
  return undefined;
}

/**
 * Whether a column of this type can hold class labels: integers, or floats checked row by row to be
 * integral.
 *
 * @example
 * ```ts
 * isLabelLike(new Int32()); // true
 * ```
 * @param t - the column's type.
 * @returns true for integer and floating-point types.
 * @see isImageLike
 */
export function isLabelLike(t: DataType): boolean {
  // Floats are accepted so that integer labels stored as float (common after pandas) work; each value
  // is checked to be integral when read.
  return t.typeId === Type.Int || t.typeId === Type.Float;
}

/**
 * Whether a column of this type can hold row ids: integers or strings.
 *
 * @example
 * ```ts
 * isIdLike(new Utf8()); // true
 * ```
 * @param t - the column's type.
 * @returns true for integer and UTF-8 types.
 * @see isLabelLike
 */
export function isIdLike(t: DataType): boolean {
  return t.typeId === Type.Int || t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8;
}

function isNumeric(t: DataType): boolean {
  return t.typeId === Type.Int || t.typeId === Type.Float;
}

function isBinary(t: DataType): boolean {
  return t.typeId === Type.Binary || t.typeId === Type.LargeBinary || t.typeId === Type.FixedSizeBinary;
}

function innermost(t: DataType): DataType {
  let cur = t;
  while (cur.typeId === Type.FixedSizeList) cur = (cur.children[0] as Field).type;
  return cur;
}

function isHfImageStruct(t: DataType): boolean {
  if (t.typeId !== Type.Struct) return false;
  const bytes = (t.children as Field[]).find((c) => c.name === 'bytes');
  return bytes !== undefined && isBinary(bytes.type);
}

/**
 * Whether a column of this type can hold images, in any encoding {@link ImageEncoding} names.
 *
 * @example
 * ```ts
 * isImageLike(new Binary()); // true
 * ```
 * @param t - the column's type.
 * @returns true for binary, numeric (fixed-size) lists, and `{bytes, path}` structs.
 * @see isLabelLike
 */
export function isImageLike(t: DataType): boolean {
  if (isBinary(t) || isHfImageStruct(t)) return true;
  if (t.typeId === Type.FixedSizeList) return isNumeric(innermost(t));
  if (t.typeId === Type.List || t.typeId === Type.LargeList) return isNumeric((t.children[0] as Field).type);
  return false;
}

function describeImageColumn(
  field: Field,
  schema: Schema,
  cells: (column: string) => readonly Uint8Array[],
  shapeOverride: ImageShape | undefined,
  file: string,
): ImageColumnSpec {
  const t = field.type;
  const metaShape =
    schema.metadata.get(IMAGE_SHAPE_METADATA_KEY) ?? field.metadata.get(IMAGE_SHAPE_METADATA_KEY);
  const declared = shapeOverride ?? (metaShape ? metadataShape(metaShape, file, field.name) : null);
  if (isHfImageStruct(t)) return { name: field.name, encoding: 'hf-image', shape: declared };
  if (t.typeId === Type.FixedSizeList) {
    return { name: field.name, encoding: 'fixed-size-list', shape: declared ?? shapeFromNesting(t) };
  }
  if (t.typeId === Type.List || t.typeId === Type.LargeList)
    return { name: field.name, encoding: 'list', shape: declared };
  const sample = cells(field.name);
  const encoded = sample.filter(looksEncoded).length * 2 > sample.length;
  return { name: field.name, encoding: encoded ? 'encoded' : 'raw-bytes', shape: declared };
}

/** Nested fixed-size lists [H][W][C] or [H][W] give the shape; a flat one does not. */
function shapeFromNesting(t: DataType): ImageShape | null {
  const sizes: number[] = [];
  let cur = t;
  while (cur.typeId === Type.FixedSizeList) {
    sizes.push((cur as DataType & { listSize: number }).listSize);
    cur = (cur.children[0] as Field).type;
  }
  if (sizes.length === 3)
    return { height: sizes[0] as number, width: sizes[1] as number, channels: sizes[2] as number };
  if (sizes.length === 2) return { height: sizes[0] as number, width: sizes[1] as number, channels: 1 };
  return null;
}

/** Class names from our metadata key, or from a Hugging Face `huggingface` features block. */
function readClassNames(schema: Schema, labelColumn: string): string[] | null {
  const ours = schema.metadata.get(CLASS_NAMES_METADATA_KEY);
  if (ours) {
    try {
      const parsed: unknown = JSON.parse(ours);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch {
      // Unreadable metadata is not the user's data; fall through to other sources.
    }
  }
  const hf = schema.metadata.get('huggingface');
  if (hf) {
    try {
      const parsed = JSON.parse(hf) as { info?: { features?: Record<string, { names?: unknown }> } };
      const names = parsed.info?.features?.[labelColumn]?.names;
      if (Array.isArray(names) && names.every((x) => typeof x === 'string')) return names as string[];
    } catch {
      // As above.
    }
  }
  return null;
}

/** The image shape a data file declares in its metadata; a bad one is the file's fault, not a usage error. */
function metadataShape(text: string, file: string, column: string): ImageShape {
  try {
    return parseShape(text, `${IMAGE_SHAPE_METADATA_KEY} metadata`);
  } catch (cause) {
    throw new DataError(ErrorCode.BadImage, cause instanceof Error ? cause.message : String(cause), {
      cause,
      location: { file, column },
    });
  }
}
