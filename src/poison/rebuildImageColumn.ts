import { type Data, type DataType, type Field, Type } from 'apache-arrow';
import { encode as encodePng } from 'fast-png';
import { type ImageShape, imageSize } from '../data/imageShape.js';
import type { ImageEncoding } from '../data/inferColumns.js';
import { imageCellReader } from '../data/readImageCell.js';
import { dataOfType, numericDataOfType } from '../io/arrowColumns.js';

/**
 * Builds a new image column of the same Arrow type as `original`, holding `images` (the batch's decoded
 * uint8 HWC pixels, some of them changed by an attack).
 *
 * <span class="informal">Raw and list layouts are rewritten from the pixels; for PNG/JPEG cells only the
 * changed rows are re-encoded, as PNG (lossless, so a trigger survives exactly), and every unchanged
 * cell keeps its original bytes.</span>
 *
 * @param original - the column's data in the source batch.
 * @param encoding - how the column stores images (from column inference).
 * @param shape - the images' shape.
 * @param images - `rows × H×W×C` pixels.
 * @param changed - whether a row's pixels differ from the source.
 * @returns data of `original.type`, without nulls.
 */
export function rebuildImageColumn(
  original: Data,
  encoding: ImageEncoding,
  shape: ImageShape,
  images: Uint8Array,
  changed: (row: number) => boolean,
): Data {
  const rows = original.length;
  const size = imageSize(shape);
  const type: DataType = original.type;
  switch (encoding) {
    case 'raw-bytes':
      if (type.typeId === Type.FixedSizeBinary) return dataOfType(type, rows, { data: images.slice() });
      return dataOfType(type, rows, { valueOffsets: offsets(type, rows, size), data: images.slice() });
    case 'fixed-size-list':
      return rebuildFixedSizeList(type, rows, images);
    case 'list': {
      const child = original.children[0] as Data;
      return dataOfType(type, rows, {
        valueOffsets: offsets(type, rows, size),
        child: numericDataOfType(child.type, images),
      });
    }
    case 'encoded':
      return encodedColumn(original, shape, images, changed);
    case 'hf-image': {
      const index = (type.children as Field[]).findIndex((c) => c.name === 'bytes');
      const children = original.children.map((child, i) =>
        i === index ? encodedColumn(child, shape, images, changed) : child,
      );
      return dataOfType(type, rows, { children });
    }
  }
}

/** Offsets for `rows` values of `size` each, 32- or 64-bit as the type needs. */
function offsets(type: DataType, rows: number, size: number): Int32Array | BigInt64Array {
  const large = type.typeId === Type.LargeBinary || type.typeId === Type.LargeList;
  if (large) return BigInt64Array.from({ length: rows + 1 }, (_, i) => BigInt(i * size));
  return Int32Array.from({ length: rows + 1 }, (_, i) => i * size);
}

function rebuildFixedSizeList(type: DataType, rows: number, pixels: Uint8Array): Data {
  if (type.typeId !== Type.FixedSizeList) return numericDataOfType(type, pixels);
  const childType = (type.children[0] as Field).type;
  const listSize = (type as DataType & { listSize: number }).listSize;
  const child = rebuildFixedSizeList(childType, rows * listSize, pixels);
  return dataOfType(type, rows, { child });
}

function encodedColumn(
  original: Data,
  shape: ImageShape,
  images: Uint8Array,
  changed: (row: number) => boolean,
): Data {
  const read = imageCellReader(original);
  const size = imageSize(shape);
  const cells: Uint8Array[] = [];
  let total = 0;
  for (let r = 0; r < original.length; r++) {
    const cell = read(r);
    const bytes =
      changed(r) || cell?.kind !== 'bytes'
        ? encodePng({
            width: shape.width,
            height: shape.height,
            channels: shape.channels,
            depth: 8,
            data: images.subarray(r * size, (r + 1) * size),
          })
        : cell.bytes;
    cells.push(bytes);
    total += bytes.length;
  }
  const data = new Uint8Array(total);
  const large = original.type.typeId === Type.LargeBinary;
  const offs = large ? new BigInt64Array(cells.length + 1) : new Int32Array(cells.length + 1);
  let at = 0;
  cells.forEach((bytes, i) => {
    data.set(bytes, at);
    at += bytes.length;
    if (large) (offs as BigInt64Array)[i + 1] = BigInt(at);
    else (offs as Int32Array)[i + 1] = at;
  });
  return dataOfType(original.type, cells.length, { valueOffsets: offs, data });
}
