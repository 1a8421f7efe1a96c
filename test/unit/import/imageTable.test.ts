import { join } from 'node:path';
import { Type } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { CLASS_NAMES_METADATA_KEY, IMAGE_SHAPE_METADATA_KEY } from '../../../src/data/imageShape.js';
import { DataError, ErrorCode } from '../../../src/errors.js';
import {
  buildImageTable,
  IMPORT_ROW_GROUP_SIZE,
  type ImageRows,
  writeImageDataset,
} from '../../../src/import/imageTable.js';
import {
  blobBytes,
  duckdbRows,
  listNames,
  makeTempDir,
  patternImages,
  readBack,
  removeTempDirs,
  sqlString,
} from './helpers.js';

afterEach(removeTempDirs);

const shape = { height: 4, width: 4, channels: 1 };

function fiveRows(overrides: Partial<ImageRows> = {}): ImageRows {
  return {
    images: patternImages(5, 16),
    labels: Int32Array.from([0, 1, 2, 1, 0]),
    shape,
    ids: ['a', 'b', 'c', 'd', 'e'],
    split: 'train',
    source: 'unit',
    classNames: ['zero', 'one', 'two'],
    ...overrides,
  };
}

describe('buildImageTable', () => {
  it('has the five columns, non-null, with the shape and class names in the metadata', () => {
    const table = buildImageTable(fiveRows());
    expect(table.numRows).toBe(5);
    expect(table.schema.fields.map((f) => [f.name, f.type.typeId, f.nullable])).toEqual([
      ['id', Type.Utf8, false],
      ['image', Type.Binary, false],
      ['label', Type.Int, false],
      ['split', Type.Utf8, false],
      ['source', Type.Utf8, false],
    ]);
    expect(table.schema.metadata.get(IMAGE_SHAPE_METADATA_KEY)).toBe('4,4,1');
    expect(table.schema.metadata.get(CLASS_NAMES_METADATA_KEY)).toBe('["zero","one","two"]');
  });

  it('stores each image as its own slice of raw bytes', () => {
    const rows = fiveRows();
    const table = buildImageTable(rows);
    const images = table.getChild('image');
    for (let i = 0; i < 5; i++) {
      expect(images?.get(i)).toEqual(rows.images.subarray(i * 16, (i + 1) * 16));
    }
    expect(table.getChild('id')?.toArray()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...(table.getChild('label')?.toArray() ?? [])]).toEqual([0, 1, 2, 1, 0]);
    expect(table.getChild('split')?.get(4)).toBe('train');
    expect(table.getChild('source')?.get(2)).toBe('unit');
  });

  it('takes one source per row when given an array, and omits class names when not given', () => {
    const table = buildImageTable(
      fiveRows({ source: ['s0', 's1', 's2', 's3', 's4'], classNames: undefined }),
    );
    expect(table.getChild('source')?.toArray()).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(table.schema.metadata.has(CLASS_NAMES_METADATA_KEY)).toBe(false);
  });

  it('splits large inputs into batches of the row group size', () => {
    const n = IMPORT_ROW_GROUP_SIZE + 3;
    const table = buildImageTable({
      images: patternImages(n, 1),
      labels: new Int32Array(n),
      shape: { height: 1, width: 1, channels: 1 },
      ids: Array.from({ length: n }, (_, i) => `r${i}`),
      split: 'train',
      source: 'unit',
    });
    expect(table.batches.map((b) => b.numRows)).toEqual([IMPORT_ROW_GROUP_SIZE, 3]);
    expect(table.getChild('image')?.get(n - 1)).toEqual(Uint8Array.of(patternImages(n, 1)[n - 1] as number));
    expect(table.getChild('id')?.get(n - 1)).toBe(`r${n - 1}`);
  });

  it('builds an empty table with the schema for no rows', () => {
    const table = buildImageTable(
      fiveRows({ images: new Uint8Array(0), labels: new Int32Array(0), ids: [] }),
    );
    expect(table.numRows).toBe(0);
    expect(table.schema.fields).toHaveLength(5);
  });

  it.each([
    ['too few image bytes', { images: new Uint8Array(79) }, ErrorCode.BadImage, /79 image bytes for 5 ids/],
    ['too few labels', { labels: Int32Array.from([0, 1]) }, ErrorCode.BadLabel, /2 labels for 5 ids/],
    [
      'a label beyond the class names',
      { labels: Int32Array.from([0, 1, 3, 1, 0]) },
      ErrorCode.BadLabel,
      /label 3 of id 'c'/,
    ],
    ['a negative label', { labels: Int32Array.from([0, -1, 0, 0, 0]) }, ErrorCode.BadLabel, /label -1/],
    ['a repeated id', { ids: ['a', 'b', 'a', 'd', 'e'] }, ErrorCode.DuplicateId, /id 'a' appears twice/],
    ['an empty id', { ids: ['a', 'b', '', 'd', 'e'] }, ErrorCode.BadId, /empty/],
    ['too few sources', { source: ['x'] }, ErrorCode.SchemaMismatch, /1 sources for 5 ids/],
    ['a zero dimension', { shape: { height: 0, width: 4, channels: 1 } }, ErrorCode.BadImage, /not positive/],
  ] as const)('rejects %s', (_what, overrides, code, message) => {
    const build = () => buildImageTable(fiveRows(overrides as Partial<ImageRows>));
    expect(build).toThrow(DataError);
    expect(build).toThrow(message);
    try {
      build();
    } catch (err) {
      expect((err as DataError).code).toBe(code);
    }
  });
});

describe('writeImageDataset', () => {
  it('writes a Parquet file that reads back exactly, with no temporary files left', async () => {
    const dir = await makeTempDir();
    const path = join(dir, 'sub', 'train.parquet');
    const rows = fiveRows();
    await writeImageDataset(path, buildImageTable(rows));
    expect(await listNames(join(dir, 'sub'))).toEqual(['train.parquet']);

    const back = await readBack(path);
    expect(back.ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(back.labels).toEqual([0, 1, 2, 1, 0]);
    expect(back.shape).toEqual(shape);
    expect(back.images).toEqual(rows.images);
    expect(back.classNames).toEqual(['zero', 'one', 'two']);
    expect(back.splits).toEqual(['train', 'train', 'train', 'train', 'train']);
  });

  it('is read identically by DuckDB', async () => {
    const dir = await makeTempDir();
    const path = join(dir, 'train.parquet');
    const rows = fiveRows();
    await writeImageDataset(path, buildImageTable(rows));
    const result = await duckdbRows(
      `SELECT id, image, label, split, source FROM read_parquet(${sqlString(path)}) ORDER BY id`,
    );
    expect(result.map((r) => [r[0], r[2], r[3], r[4]])).toEqual([
      ['a', 0, 'train', 'unit'],
      ['b', 1, 'train', 'unit'],
      ['c', 2, 'train', 'unit'],
      ['d', 1, 'train', 'unit'],
      ['e', 0, 'train', 'unit'],
    ]);
    result.forEach((r, i) => {
      expect(new Uint8Array(blobBytes(r[1]))).toEqual(rows.images.subarray(i * 16, (i + 1) * 16));
    });
    const meta = await duckdbRows(
      `SELECT decode(key), decode(value) FROM parquet_kv_metadata(${sqlString(path)}) WHERE decode(key) LIKE 'abl_audit.%' ORDER BY 1`,
    );
    expect(meta).toEqual([
      [CLASS_NAMES_METADATA_KEY, '["zero","one","two"]'],
      [IMAGE_SHAPE_METADATA_KEY, '4,4,1'],
    ]);
  });
});
