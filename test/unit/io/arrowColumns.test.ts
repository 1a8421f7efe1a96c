import { join } from 'node:path';
import {
  Binary,
  Bool,
  type Data,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int8,
  Int32,
  Int64,
  List,
  type RecordBatch,
  Struct,
  Type,
  Uint8,
  Uint16,
  Uint64,
  Utf8,
  Vector,
} from 'apache-arrow';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { AblError, ErrorCode } from '../../../src/errors.js';
import {
  binaryData,
  boolData,
  column,
  columnsOf,
  dataOfType,
  float32Data,
  float64Data,
  int32Data,
  numericDataOfType,
  recordBatchOf,
  utf8Data,
} from '../../../src/io/arrowColumns.js';
import { readParquetBatches } from '../../../src/io/readParquetBatches.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { duckRows, sqlString } from '../../helpers/duckdb.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('abl-arrow-columns-');

/** A column's values as plain JS (Uint8Array cells as number arrays, so toEqual compares bytes). */
function values(data: Data): unknown[] {
  return Array.from(new Vector([data]) as Iterable<unknown>, (v) =>
    v instanceof Uint8Array ? Array.from(v) : v,
  );
}

/** One column of every builder, 11 rows (more than a byte of bitmap), nulls only in `attack`. */
function sampleBatch(): RecordBatch {
  const n = 11;
  const pixels = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 37) % 256);
  return recordBatchOf(
    [
      column('id', utf8Data(Array.from({ length: n }, (_, i) => `row-${i}-é`))),
      column('label', int32Data(Int32Array.from({ length: n }, (_, i) => i % 4))),
      column('loss', float32Data(Float32Array.from({ length: n }, (_, i) => i / 4))),
      column('score', float64Data(Float64Array.from({ length: n }, (_, i) => i / 3))),
      column('poisoned', boolData(Array.from({ length: n }, (_, i) => i % 3 === 0))),
      column(
        'image',
        binaryData(
          Int32Array.from({ length: n + 1 }, (_, i) => i * 3),
          pixels,
        ),
      ),
      column('attack', utf8Data(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'badnets' : null))), {
        nullable: true,
      }),
    ],
    new Map([['abl_audit.image_shape', '1,3,1']]),
  );
}

describe('arrowColumns typed builders', () => {
  it('build Data of the named type, without nulls, holding the values', () => {
    expect(int32Data(Int32Array.of(3, -1)).type).toBeInstanceOf(Int32);
    expect(float32Data(Float32Array.of(0.5)).type).toBeInstanceOf(Float32);
    expect(float64Data(Float64Array.of(0.25)).type).toBeInstanceOf(Float64);
    expect(boolData([true]).type).toBeInstanceOf(Bool);
    expect(utf8Data(['a']).type).toBeInstanceOf(Utf8);
    expect(binaryData(Int32Array.of(0, 1), Uint8Array.of(7)).type).toBeInstanceOf(Binary);

    expect(values(int32Data(Int32Array.of(3, -1, 7)))).toEqual([3, -1, 7]);
    expect(values(float32Data(Float32Array.of(0.5, -2)))).toEqual([0.5, -2]);
    expect(values(float64Data(Float64Array.of(0.1, 1e300)))).toEqual([0.1, 1e300]);
    expect(values(binaryData(Int32Array.of(0, 2, 2, 3), Uint8Array.of(1, 2, 3)))).toEqual([[1, 2], [], [3]]);
    for (const data of [int32Data(Int32Array.of(1)), boolData([false]), utf8Data(['x'])]) {
      expect(data.nullCount).toBe(0);
    }
  });

  it('keep the static Arrow type, so callers need no casts', () => {
    expectTypeOf(int32Data(new Int32Array(0))).toEqualTypeOf<Data<Int32>>();
    expectTypeOf(float32Data(new Float32Array(0))).toEqualTypeOf<Data<Float32>>();
    expectTypeOf(float64Data(new Float64Array(0))).toEqualTypeOf<Data<Float64>>();
    expectTypeOf(boolData([])).toEqualTypeOf<Data<Bool>>();
    expectTypeOf(utf8Data([])).toEqualTypeOf<Data<Utf8>>();
    expectTypeOf(binaryData(new Int32Array(1), new Uint8Array(0))).toEqualTypeOf<Data<Binary>>();
  });

  it('wrap numeric and binary buffers without copying them', () => {
    const labels = Int32Array.of(1, 2, 3, 4).subarray(1, 3);
    expect(int32Data(labels).values).toBe(labels);
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i).subarray(4, 8);
    const cells = binaryData(Int32Array.of(0, 2, 4), pixels).values;
    expect([cells.buffer, cells.byteOffset, cells.length]).toEqual([pixels.buffer, 4, 4]);
    expect(cells.buffer).toBe(pixels.buffer);
  });

  it('boolData packs bits least-significant first, past the first byte', () => {
    const bits = Array.from({ length: 19 }, (_, i) => i % 3 === 1 || i === 18);
    const data = boolData(bits);
    expect(data.length).toBe(19);
    expect(values(data)).toEqual(bits);
    expect(Array.from(data.values)).toEqual([0b10010010, 0b00100100, 0b00000101]);
    expect(values(boolData([]))).toEqual([]);
  });

  it('utf8Data encodes UTF-8 and marks nulls in a validity bitmap only when there are some', () => {
    const withNulls = utf8Data(['ä', null, '', 'x😀', null]);
    expect(withNulls.nullCount).toBe(2);
    expect(values(withNulls)).toEqual(['ä', null, '', 'x😀', null]);
    expect(Array.from(withNulls.nullBitmap)).toEqual([0b01101]);

    const complete = utf8Data(['a', 'bc']);
    expect(complete.nullCount).toBe(0);
    expect(complete.nullBitmap.length).toBe(0);
    expect(Array.from(complete.valueOffsets)).toEqual([0, 1, 3]);
  });
});

describe('arrowColumns runtime-typed builders', () => {
  it('numericDataOfType converts numbers to the type, bigints for 64-bit ints', () => {
    const input = Int32Array.of(0, 5, 9);
    for (const type of [new Int8(), new Uint16(), new Int32(), new Float32(), new Float64()]) {
      const data = numericDataOfType(type, input);
      expect(data.type).toBe(type);
      expect(values(data)).toEqual([0, 5, 9]);
    }
    for (const type of [new Int64(), new Uint64()]) {
      const data = numericDataOfType(type, input);
      expect(data.type).toBe(type);
      expect(values(data)).toEqual([0n, 5n, 9n]);
    }
  });

  it('dataOfType builds each layout: fixed-size binary, binary, list, fixed-size list, struct', () => {
    const pixels = Uint8Array.of(1, 2, 3, 4);
    expect(values(dataOfType(new FixedSizeBinary(2), 2, { data: pixels }))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(
      values(dataOfType(new Binary(), 2, { valueOffsets: Int32Array.of(0, 1, 4), data: pixels })),
    ).toEqual([[1], [2, 3, 4]]);
    const item = new Field('item', new Uint8(), false);
    const list = dataOfType(new List(item), 2, {
      valueOffsets: Int32Array.of(0, 3, 4),
      child: numericDataOfType(new Uint8(), pixels),
    });
    expect(values(list).map((v) => Array.from(v as Iterable<number>))).toEqual([[1, 2, 3], [4]]);
    const fixed = dataOfType(new FixedSizeList(2, item), 2, {
      child: numericDataOfType(new Uint8(), pixels),
    });
    expect(values(fixed).map((v) => Array.from(v as Iterable<number>))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const struct = dataOfType(new Struct([new Field('n', new Int32(), false)]), 2, {
      children: [int32Data(Int32Array.of(8, 9))],
    });
    expect(values(struct).map((v) => (v as { n: number }).n)).toEqual([8, 9]);
    expect(struct.nullCount).toBe(0);
  });
});

describe('recordBatchOf', () => {
  it('names the columns, non-nullable unless asked, with the schema metadata', () => {
    const batch = sampleBatch();
    expect(batch.numRows).toBe(11);
    expect(batch.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['id', 'Utf8', false],
      ['label', 'Int32', false],
      ['loss', 'Float32', false],
      ['score', 'Float64', false],
      ['poisoned', 'Bool', false],
      ['image', 'Binary', false],
      ['attack', 'Utf8', true],
    ]);
    expect([...batch.schema.metadata]).toEqual([['abl_audit.image_shape', '1,3,1']]);
    expect(batch.data.type.typeId).toBe(Type.Struct);
    expect(batch.data.nullCount).toBe(0);
  });

  it('copies the metadata, so later changes to the caller’s map do not leak into the batch', () => {
    const metadata = new Map([['k', 'v']]);
    const batch = recordBatchOf([column('n', int32Data(Int32Array.of(1)))], metadata);
    metadata.set('k', 'changed');
    expect(batch.schema.metadata.get('k')).toBe('v');
  });

  it('keeps field metadata given to column()', () => {
    const batch = recordBatchOf([
      column('n', int32Data(Int32Array.of(1)), { metadata: new Map([['unit', 'px']]) }),
    ]);
    expect(batch.schema.fields[0]?.metadata.get('unit')).toBe('px');
  });

  it('makes an empty batch of no columns', () => {
    const batch = recordBatchOf([]);
    expect(batch.numRows).toBe(0);
    expect(batch.schema.fields).toEqual([]);
  });

  it('refuses columns of different lengths (Arrow would pad the short one with nulls)', () => {
    const build = () =>
      recordBatchOf([column('a', int32Data(Int32Array.of(1, 2))), column('b', boolData([true]))]);
    expect(build).toThrow(AblError);
    expect(build).toThrow(/column 'b' has 1 rows where the batch has 2/);
    try {
      build();
    } catch (error) {
      expect((error as AblError).code).toBe(ErrorCode.Internal);
    }
  });

  it('appends to a batch through columnsOf, keeping its fields, data and metadata as they were', () => {
    const source = sampleBatch();
    const wider = recordBatchOf(
      [...columnsOf(source), column('rank', int32Data(Int32Array.from({ length: 11 }, (_, i) => 10 - i)))],
      source.schema.metadata,
    );
    expect(wider.schema.fields.slice(0, -1)).toEqual(source.schema.fields);
    source.data.children.forEach((data, i) => {
      expect(wider.data.children[i]).toBe(data);
    });
    expect(wider.schema.metadata).toEqual(source.schema.metadata);
    expect(wider.getChild('rank')?.toArray()).toEqual(Int32Array.from({ length: 11 }, (_, i) => 10 - i));
  });
});

describe('arrowColumns through Parquet', () => {
  it('round-trips every builder through our writer and reader: types, nullability, metadata, values', async () => {
    const path = join(tmp.path, 'all-builders.parquet');
    const batch = sampleBatch();
    await writeParquet(path, [batch]);
    const back: RecordBatch[] = [];
    for await (const b of readParquetBatches(path)) back.push(b);
    expect(back).toHaveLength(1);
    const read = back[0] as RecordBatch;
    expect(read.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(
      batch.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
    );
    expect(read.schema.metadata.get('abl_audit.image_shape')).toBe('1,3,1');
    for (const f of batch.schema.fields) {
      expect(values(read.getChild(f.name)?.data[0] as Data), f.name).toEqual(
        values(batch.getChild(f.name)?.data[0] as Data),
      );
    }
  });

  it('writes files DuckDB reads back identically, nulls and non-nullable columns included', async () => {
    const path = join(tmp.path, 'duck.parquet');
    await writeParquet(path, [sampleBatch()]);
    const rows = await duckRows(
      `SELECT id, label, loss, score, poisoned, image, attack
         FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
    );
    const plain = rows.map((row) => row.map((v) => (v instanceof Uint8Array ? Array.from(v) : v)));
    expect(plain).toHaveLength(11);
    expect(plain[0]).toEqual(['row-0-é', 0, 0, 0, true, [0, 37, 74], 'badnets']);
    expect(plain[4]).toEqual(['row-4-é', 0, 1, 4 / 3, false, [188, 225, 6], null]);
    const schema = await duckRows(
      `SELECT name, type, repetition_type FROM parquet_schema(${sqlString(path)}) WHERE name <> 'arrow_schema'`,
    );
    expect(schema.filter((r) => r[2] !== null).map((r) => [r[0], r[2]])).toEqual([
      ['id', 'REQUIRED'],
      ['label', 'REQUIRED'],
      ['loss', 'REQUIRED'],
      ['score', 'REQUIRED'],
      ['poisoned', 'REQUIRED'],
      ['image', 'REQUIRED'],
      ['attack', 'OPTIONAL'],
    ]);
    const meta = await duckRows(
      `SELECT decode(value) FROM parquet_kv_metadata(${sqlString(path)}) WHERE decode(key) = 'abl_audit.image_shape'`,
    );
    expect(meta).toEqual([['1,3,1']]);
  });
});
