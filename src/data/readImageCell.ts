import { type Data, type DataType, type Field, Type } from 'apache-arrow';

/**
 * Where one image cell's values are: bytes to decode or copy, or a slice of a numeric array.
 * Null for a null cell.
 */
export type ImageCell =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'numbers';
      readonly values: ArrayLike<number>;
      readonly start: number;
      readonly length: number;
    };

/**
 * Returns a reader of the image cells of one column chunk, without materialising per-row vectors:
 * values are read straight from the Arrow buffers, so decoding a 10k-row group allocates nothing
 * per row for raw or list-encoded images.
 *
 * Indexing follows arrow-js slicing: a sliced Data has its value and offset buffers already cut to
 * start at its first row, and struct / fixed-size-list children sliced with it; only the validity
 * bitmap still needs `offset`, which `getValid` applies.
 */
export function imageCellReader(data: Data): (row: number) => ImageCell | null {
  const t: DataType = data.type;
  const isNull = (d: Data, row: number): boolean => d.nullCount > 0 && !d.getValid(row);

  if (t.typeId === Type.Binary || t.typeId === Type.LargeBinary) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const values = data.values as Uint8Array;
    return (row) => {
      if (isNull(data, row)) return null;
      const s = Number(offsets[row]);
      const e = Number(offsets[row + 1]);
      return { kind: 'bytes', bytes: values.subarray(s, e) };
    };
  }
  if (t.typeId === Type.FixedSizeBinary) {
    const width = (t as DataType & { byteWidth: number }).byteWidth;
    const values = data.values as Uint8Array;
    return (row) => {
      if (isNull(data, row)) return null;
      const s = row * width;
      return { kind: 'bytes', bytes: values.subarray(s, s + width) };
    };
  }
  if (t.typeId === Type.Struct) {
    const index = (t.children as Field[]).findIndex((c) => c.name === 'bytes');
    const child = data.children[index] as Data;
    const inner = imageCellReader(child);
    return (row) => (isNull(data, row) ? null : inner(row));
  }
  if (t.typeId === Type.FixedSizeList) {
    return (row) => {
      if (isNull(data, row)) return null;
      let start = row;
      let length = 1;
      let d: Data = data;
      while (d.type.typeId === Type.FixedSizeList) {
        const size = (d.type as DataType & { listSize: number }).listSize;
        start *= size;
        length *= size;
        d = d.children[0] as Data;
      }
      return { kind: 'numbers', values: d.values as ArrayLike<number>, start, length };
    };
  }
  if (t.typeId === Type.List || t.typeId === Type.LargeList) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const child = data.children[0] as Data;
    return (row) => {
      if (isNull(data, row)) return null;
      const s = Number(offsets[row]);
      const e = Number(offsets[row + 1]);
      return { kind: 'numbers', values: child.values as ArrayLike<number>, start: s, length: e - s };
    };
  }
  throw new Error(`unsupported image column type ${t}`);
}
