import {
  Binary,
  Bool,
  type Data,
  DataType,
  Field,
  Float32,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
} from 'apache-arrow';
import { AblError, ErrorCode } from '../errors.js';

/** One column of a record batch being assembled: the field that names it, and its data. */
export interface BatchColumn {
  readonly field: Field;
  readonly data: Data;
}

/** Options of {@link column}. */
export interface ColumnOptions {
  /** Whether the field admits nulls. Default false: every column we write is complete unless it says so. */
  readonly nullable?: boolean;
  /** Field metadata (default none). */
  readonly metadata?: ReadonlyMap<string, string>;
}

/** Typed arrays holding numbers: the value buffers of Arrow's 8- to 32-bit ints and its floats. */
export type NumberArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** Typed arrays holding bigints: the value buffers of Arrow's 64-bit ints. */
export type BigIntArray = BigInt64Array | BigUint64Array;

/**
 * The buffers of a column without nulls, by Arrow layout: `data` alone for primitive and fixed-size
 * binary types, `valueOffsets` with `data` for (large) binary and strings, `valueOffsets` with `child` for
 * (large) lists, `child` alone for fixed-size lists, `children` for structs.
 */
export type ColumnBuffers =
  | { readonly data: NumberArray | BigIntArray }
  | { readonly valueOffsets: Int32Array | BigInt64Array; readonly data: Uint8Array }
  | { readonly valueOffsets: Int32Array | BigInt64Array; readonly child: Data }
  | { readonly child: Data }
  | { readonly children: readonly Data[] };

/**
 * makeData's overloads are chosen by the static Arrow type, which columns copied from an input only have
 * at run time. This is the one place that steps around them; {@link dataOfType} keeps the props typed.
 */
const makeDataOfRuntimeType = makeData as unknown as (
  props: { readonly type: DataType; readonly length: number; readonly nullCount: 0 } & ColumnBuffers,
) => Data;

/**
 * A named column whose field type is its data's type.
 *
 * <span class="informal">The field is non-nullable unless `options.nullable` says otherwise.</span>
 *
 * @example
 * ```ts
 * const attack = column('attack', utf8Data(['badnets', null]), { nullable: true });
 * ```
 * @param name - the column's name.
 * @param data - its values.
 * @param options - nullability and field metadata.
 * @returns the field and data, ready for {@link recordBatchOf}.
 * @see recordBatchOf
 */
export function column(name: string, data: Data, options: ColumnOptions = {}): BatchColumn {
  const metadata = options.metadata ? new Map(options.metadata) : undefined;
  return { field: new Field(name, data.type, options.nullable ?? false, metadata), data };
}

/**
 * The columns of a batch, each with its own field (name, type, nullability and metadata kept).
 *
 * <span class="informal">What to spread before new columns to append them to a batch.</span>
 *
 * @example
 * ```ts
 * const wider = recordBatchOf([...columnsOf(batch), column('score', float64Data(score))], batch.schema.metadata);
 * ```
 * @param batch - any record batch.
 * @returns one {@link BatchColumn} per field, in schema order.
 * @see recordBatchOf
 */
export function columnsOf(batch: RecordBatch): BatchColumn[] {
  return batch.schema.fields.map((field, i) => ({ field, data: batch.data.children[i] as Data }));
}

/**
 * Assembles columns into one record batch, with the given schema metadata.
 *
 * <span class="informal">The batch's fields are the columns' fields in order; its length is theirs, and
 * they must all have the same one (Arrow would silently pad a short column with nulls).</span>
 *
 * @example
 * ```ts
 * const batch = recordBatchOf(
 *   [column('id', utf8Data(['a', 'b'])), column('label', int32Data(Int32Array.of(3, 1)))],
 *   new Map([['abl_audit.image_shape', '28,28,1']]),
 * );
 * ```
 * @param columns - the batch's columns, in order.
 * @param metadata - the schema's key-value metadata (copied); default none.
 * @returns a batch of the columns' common length (0 for no columns).
 * @throws AblError (Internal) when the columns differ in length.
 * @see column
 * @see columnsOf
 */
export function recordBatchOf(
  columns: readonly BatchColumn[],
  metadata: ReadonlyMap<string, string> = new Map(),
): RecordBatch {
  const length = columns[0]?.data.length ?? 0;
  const odd = columns.find((c) => c.data.length !== length);
  if (odd) {
    throw new AblError(
      ErrorCode.Internal,
      `column '${odd.field.name}' has ${odd.data.length} rows where the batch has ${length}`,
    );
  }
  const fields = columns.map((c) => c.field);
  const children = columns.map((c) => c.data);
  const schema = new Schema(fields, new Map(metadata));
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/**
 * An int32 column without nulls.
 *
 * <span class="informal">Wraps `values` without copying them.</span>
 *
 * @example
 * ```ts
 * const labels = int32Data(Int32Array.of(0, 3, 1));
 * ```
 * @param values - one value per row.
 * @returns Arrow data of type Int32.
 * @see recordBatchOf
 */
export function int32Data(values: Int32Array): Data<Int32> {
  return makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
}

/**
 * A float32 column without nulls.
 *
 * <span class="informal">Wraps `values` without copying them.</span>
 *
 * @example
 * ```ts
 * const loss = float32Data(Float32Array.of(0.1, 2.5));
 * ```
 * @param values - one value per row.
 * @returns Arrow data of type Float32.
 * @see recordBatchOf
 */
export function float32Data(values: Float32Array): Data<Float32> {
  return makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
}

/**
 * A float64 column without nulls.
 *
 * <span class="informal">Wraps `values` without copying them.</span>
 *
 * @example
 * ```ts
 * const score = float64Data(Float64Array.of(0.25, 0.75));
 * ```
 * @param values - one value per row.
 * @returns Arrow data of type Float64.
 * @see recordBatchOf
 */
export function float64Data(values: Float64Array): Data<Float64> {
  return makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values });
}

/**
 * A boolean column without nulls.
 *
 * <span class="informal">Packs the values into Arrow's bitmap, one bit per row.</span>
 *
 * @example
 * ```ts
 * const poisoned = boolData([true, false, false]);
 * ```
 * @param values - one value per row.
 * @returns Arrow data of type Bool.
 * @see recordBatchOf
 */
export function boolData(values: readonly boolean[]): Data<Bool> {
  return makeData({
    type: new Bool(),
    length: values.length,
    nullCount: 0,
    data: packBits(values.length, (i) => values[i] === true),
  });
}

const encoder = new TextEncoder();
const NO_BYTES = new Uint8Array(0);

/**
 * A string column, null where a value is null.
 *
 * <span class="informal">Encodes every string into one buffer, without the per-value overhead of
 * Arrow's builders (this runs once per row of a 60,000-image import).</span>
 *
 * @example
 * ```ts
 * const attack = utf8Data(['badnets', null, 'blend']);
 * ```
 * @param values - one string or null per row.
 * @returns Arrow data of type Utf8; it has a validity bitmap only when some value is null.
 * @see column
 */
export function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const encoded = values.map((v) => (v === null ? NO_BYTES : encoder.encode(v)));
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < encoded.length; i++)
    offsets[i + 1] = (offsets[i] as number) + (encoded[i] as Uint8Array).length;
  const bytes = new Uint8Array(offsets[values.length] as number);
  for (let i = 0; i < encoded.length; i++) bytes.set(encoded[i] as Uint8Array, offsets[i] as number);
  const nullCount = values.reduce((count: number, v) => (v === null ? count + 1 : count), 0);
  return makeData({
    type: new Utf8(),
    length: values.length,
    nullCount,
    nullBitmap: nullCount === 0 ? undefined : packBits(values.length, (i) => values[i] !== null),
    valueOffsets: offsets,
    data: bytes,
  });
}

/**
 * A binary column without nulls: row `i` is `data[valueOffsets[i], valueOffsets[i + 1])`.
 *
 * <span class="informal">Wraps both buffers without copying, so many rows can point into one large
 * buffer of images.</span>
 *
 * @example
 * ```ts
 * const cells = binaryData(Int32Array.of(0, 4, 8), pixels.subarray(0, 8));
 * ```
 * @param valueOffsets - `rows + 1` offsets into `data`, starting at 0.
 * @param data - the rows' bytes, back to back.
 * @returns Arrow data of type Binary.
 * @see recordBatchOf
 */
export function binaryData(valueOffsets: Int32Array, data: Uint8Array): Data<Binary> {
  return makeData({ type: new Binary(), length: valueOffsets.length - 1, nullCount: 0, valueOffsets, data });
}

/**
 * A column without nulls of a type known only at run time (an input column's own type), from its buffers.
 *
 * <span class="informal">For rebuilding an input column in the input's layout, whatever that is.</span>
 *
 * @example
 * ```ts
 * const list = dataOfType(original.type, rows, { valueOffsets, child: pixels });
 * ```
 * @param type - the column's Arrow type.
 * @param length - its number of rows.
 * @param buffers - its buffers, in the layout `type` needs.
 * @returns Arrow data of `type`.
 * @see numericDataOfType
 */
export function dataOfType(type: DataType, length: number, buffers: ColumnBuffers): Data {
  return makeDataOfRuntimeType({ type, length, nullCount: 0, ...buffers });
}

/**
 * A numeric column without nulls of a type known only at run time (any int or float type), holding
 * `values` converted to it.
 *
 * <span class="informal">64-bit ints get bigints; every other type takes the numbers as its typed
 * array stores them (truncated for ints).</span>
 *
 * @example
 * ```ts
 * const labels = numericDataOfType(labelField.type, Int32Array.of(0, 3));
 * ```
 * @param type - an Arrow Int or Float type.
 * @param values - one value per row.
 * @returns Arrow data of `type`.
 * @see dataOfType
 */
export function numericDataOfType(type: DataType, values: ArrayLike<number>): Data {
  if (isInt64(type)) {
    const Ctor: new (length: number) => BigIntArray = type.ArrayType;
    const out = new Ctor(values.length);
    for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i] as number);
    return dataOfType(type, values.length, { data: out });
  }
  const Ctor: new (length: number) => NumberArray = type.ArrayType;
  const out = new Ctor(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
  return dataOfType(type, values.length, { data: out });
}

/** Whether values of `type` are bigints (its typed array is a BigInt64Array or BigUint64Array). */
function isInt64(type: DataType): boolean {
  return DataType.isInt(type) && type.bitWidth === 64;
}

/** Arrow's bitmap layout: bit `i % 8` of byte `i / 8` is set where `bit(i)` holds. */
function packBits(length: number, bit: (i: number) => boolean): Uint8Array {
  const bits = new Uint8Array(Math.ceil(length / 8));
  for (let i = 0; i < length; i++) {
    if (bit(i)) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  }
  return bits;
}
