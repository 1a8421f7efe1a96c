import {
  Binary,
  type DataType,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int64,
  List,
  Schema,
  Struct,
  Uint8,
  Utf8,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { type ColumnOverrides, inferColumns } from '../../../src/data/inferColumns.js';
import { AblError, DataError, ErrorCode } from '../../../src/errors.js';

const FILE = '/data/train/part-0.parquet';
const PNG_START = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0);
const JPEG_START = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0);

function schema(columns: Record<string, DataType>, metadata: Record<string, string> = {}): Schema {
  return new Schema(
    Object.entries(columns).map(([name, type]) => new Field(name, type, true)),
    new Map(Object.entries(metadata)),
  );
}

function infer(s: Schema, overrides: ColumnOverrides = {}, first: Uint8Array | null = new Uint8Array(784)) {
  return inferColumns(s, () => (first === null ? [] : [first]), overrides, FILE);
}

function failure(f: () => unknown): AblError {
  try {
    f();
  } catch (err) {
    if (err instanceof AblError) return err;
    throw err;
  }
  throw new Error('expected an AblError');
}

describe('inferColumns by name', () => {
  it.each([
    ['image', 'label', 'id'],
    ['img', 'target', 'row_id'],
    ['pixels', 'y', 'uid'],
    ['Image', 'LABEL', 'Id'],
  ])('finds %s / %s / %s', (image, label, id) => {
    // Decoys first: columns that would win on type alone if names were ignored.
    const cols = infer(
      schema({
        other_bytes: new Binary(),
        count: new Int32(),
        [image]: new Binary(),
        [label]: new Int64(),
        [id]: new Utf8(),
      }),
    );
    expect(cols.image.name).toBe(image);
    expect(cols.label).toBe(label);
    expect(cols.id).toBe(id);
  });

  it('falls back to types for the image (the first binary column), never for the label', () => {
    const cols = infer(schema({ caption: new Utf8(), picture: new Binary(), label: new Int32() }));
    expect(cols.image.name).toBe('picture');
    expect(cols.id).toBeNull();
    // An integer column that is not named like a label is never taken for one (an image's height
    // would train a model of nonsense classes without a word): the error names it as a candidate.
    const error = failure(() => infer(schema({ picture: new Binary(), digit: new Int32() })));
    expect(error.code).toBe(ErrorCode.NoLabelColumn);
    expect(error.message).toContain('if one of digit holds the class labels, give it with --label-col');
  });

  it('does not offer an integer id column as a label candidate', () => {
    const error = failure(() => infer(schema({ id: new Int64(), image: new Binary(), digit: new Int32() })));
    expect(error.message).toContain('if one of digit holds');
    expect(
      infer(schema({ id: new Int64(), image: new Binary(), digit: new Int32() }), { labelCol: 'digit' }).id,
    ).toBe('id');
  });

  it('accepts float labels (checked to be integral when read)', () => {
    expect(infer(schema({ image: new Binary(), label: new Float32() })).label).toBe('label');
  });
});

describe('inferColumns overrides', () => {
  const s = schema({ a: new Binary(), b: new Binary(), c: new Int32(), d: new Int32(), key: new Utf8() });

  it('uses the named columns', () => {
    const cols = infer(s, { imageCol: 'b', labelCol: 'd', idCol: 'key' });
    expect([cols.image.name, cols.label, cols.id]).toEqual(['b', 'd', 'key']);
  });

  it.each([
    ['imageCol', 'image'],
    ['labelCol', 'label'],
    ['idCol', 'id'],
  ] as const)('names the file and lists the columns when %s is missing', (key, what) => {
    const err = failure(() => infer(s, { [key]: 'nope' }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.message).toContain(FILE);
    expect(err.message).toContain(`no column 'nope' (asked for as the ${what} column)`);
    expect(err.message).toContain('a: Binary, b: Binary, c: Int32, d: Int32, key: Utf8');
  });

  it('refuses an image override naming a column that cannot hold images', () => {
    const err = failure(() => infer(s, { imageCol: 'key' }));
    expect(err.code).toBe(ErrorCode.NoImageColumn);
    expect(err.location).toEqual({ file: FILE, column: 'key' });
  });

  it('refuses a label override naming a string column', () => {
    const err = failure(() => infer(s, { labelCol: 'key' }));
    expect(err.code).toBe(ErrorCode.BadLabel);
    expect(err.location).toEqual({ file: FILE, column: 'key' });
  });

  it('refuses an id override naming a binary column', () => {
    const err = failure(() => infer(s, { idCol: 'b', imageCol: 'a' }));
    expect(err.code).toBe(ErrorCode.BadId);
    expect(err.location).toEqual({ file: FILE, column: 'b' });
  });
});

describe('inferColumns failures', () => {
  it('names the file and lists the columns when there is no image column', () => {
    const err = failure(() => infer(schema({ label: new Int32(), caption: new Utf8() })));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.NoImageColumn);
    expect(err.message).toContain(FILE);
    expect(err.message).toContain('label: Int32, caption: Utf8');
    expect(err.message).toContain('--image-col');
  });

  it('names the file when there is no label column', () => {
    const err = failure(() => infer(schema({ image: new Binary(), caption: new Utf8() })));
    expect(err.code).toBe(ErrorCode.NoLabelColumn);
    expect(err.message).toContain(FILE);
    expect(err.message).toContain('--label-col');
  });

  it('names the metadata key when the shape in it is unreadable: a data error (ABL203), not a usage one', () => {
    const err = failure(() =>
      infer(schema({ image: new Binary(), label: new Int32() }, { 'abl_audit.image_shape': 'big' })),
    );
    expect(err.message).toContain('abl_audit.image_shape');
    expect(err.message).toContain(FILE);
    expect(err.code).toBe('ABL203');
    expect(err.message).toContain("column 'image'");
  });
});

describe('inferColumns image encodings', () => {
  it.each([
    ['raw bytes', new Binary(), new Uint8Array(784), 'raw-bytes'],
    ['PNG bytes', new Binary(), PNG_START, 'encoded'],
    ['JPEG bytes', new Binary(), JPEG_START, 'encoded'],
    ['a list of numbers', new List(new Field('item', new Uint8(), true)), null, 'list'],
  ] as const)('tells %s', (_name, type, first, encoding) => {
    expect(infer(schema({ image: type, label: new Int32() }), {}, first).image.encoding).toBe(encoding);
  });

  it('recognises the Hugging Face image struct', () => {
    const hf = new Struct([new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)]);
    const cols = infer(schema({ label: new Int32(), image: hf }), {}, null);
    expect(cols.image).toEqual({ name: 'image', encoding: 'hf-image', shape: null });
  });

  it('takes the shape from nested fixed-size lists, and from metadata or the override first', () => {
    const nested = new FixedSizeList(
      4,
      new Field('w', new FixedSizeList(5, new Field('c', new FixedSizeList(3, new Field('v', new Uint8()))))),
    );
    expect(infer(schema({ image: nested, label: new Int32() })).image.shape).toEqual({
      height: 4,
      width: 5,
      channels: 3,
    });
    const withMeta = schema({ image: nested, label: new Int32() }, { 'abl_audit.image_shape': '2x10x3' });
    expect(infer(withMeta).image.shape).toEqual({ height: 2, width: 10, channels: 3 });
    const override = { height: 6, width: 10, channels: 1 };
    expect(infer(withMeta, { imageShape: override }).image.shape).toEqual(override);
  });
});

describe('inferColumns class names', () => {
  it('reads abl_audit.class_names', () => {
    const s = schema(
      { image: new Binary(), label: new Int32() },
      { 'abl_audit.class_names': '["cat","dog"]' },
    );
    expect(infer(s).classNames).toEqual(['cat', 'dog']);
  });

  it('reads Hugging Face ClassLabel names for the label column', () => {
    const hf = JSON.stringify({
      info: {
        features: {
          img: { _type: 'Image' },
          fine_label: { names: ['apple', 'aquarium_fish', 'baby'], _type: 'ClassLabel' },
        },
      },
    });
    const s = schema({ img: new Binary(), fine_label: new Int64() }, { huggingface: hf });
    const cols = infer(s, {}, PNG_START);
    expect(cols.label).toBe('fine_label');
    expect(cols.classNames).toEqual(['apple', 'aquarium_fish', 'baby']);
  });

  it('ignores unreadable class name metadata', () => {
    const s = schema(
      { image: new Binary(), label: new Int32() },
      { 'abl_audit.class_names': '{nope', huggingface: '[' },
    );
    expect(infer(s).classNames).toBeNull();
  });
});
