import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { describeError, ErrorCode, IoError } from '../errors.js';

const gunzipAsync = promisify(gunzip);

/** An IDX array: its dimensions (first = number of items) and its values, row-major. */
export interface IdxArray {
  /** Sizes of each dimension, outermost first: `[60000, 28, 28]` for MNIST training images. */
  readonly dims: readonly number[];
  /** The values, unsigned bytes, `product(dims)` long. */
  readonly data: Uint8Array;
}

/** IDX element type codes (third magic byte) and their names, for messages. */
const IDX_TYPES: Readonly<Record<number, string>> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};
const UBYTE = 0x08;

/**
 * Reads an IDX file, the format of MNIST and Fashion-MNIST, gunzipping it first when it is gzip.
 *
 * <span class="informal">Gzip is recognised by its magic bytes (1f 8b), not by a `.gz` name, so a
 * renamed or decompressed download reads the same.</span>
 *
 * The format: two zero bytes, an element type byte, a dimension count byte, then one big-endian uint32
 * per dimension and the values. Only unsigned-byte data (type 0x08), which is what image datasets use,
 * is read.
 *
 * @example
 * ```ts
 * const { dims, data } = await readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 * // dims = [10000]
 * ```
 * @param path - the file, plain or gzip-compressed.
 * @returns its dimensions and values.
 * @throws IoError naming the file: FileNotFound when it cannot be read; CorruptFile when the gzip stream,
 *   the magic number or the size is wrong (saying the expected and actual size); NotADataFile for an
 *   element type other than unsigned byte.
 * @see importIdx
 */
export async function readIdx(path: string): Promise<IdxArray> {
  const location = { file: path };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new IoError(
      ErrorCode.FileNotFound,
      code === 'ENOENT' ? 'no such file' : `cannot read: ${describeError(cause)}`,
      { cause, location },
    );
  }
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (cause) {
      throw new IoError(ErrorCode.CorruptFile, `corrupt gzip data: ${describeError(cause)}`, {
        cause,
        location,
      });
    }
  }
  return parseIdx(bytes, path, gzipped ? ' (after gunzip)' : '');
}

/** @param unpacked - appended to byte counts in messages, so they are not mistaken for the file size. */
function parseIdx(bytes: Uint8Array, path: string, unpacked: string): IdxArray {
  const location = { file: path };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[3] === 0) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new IoError(
      ErrorCode.CorruptFile,
      `not an IDX file: magic number is '${head}', expected '00 00 <type> <ndims>' (${bytes.length} bytes${unpacked})`,
      { location },
    );
  }
  const type = bytes[2] as number;
  const ndims = bytes[3] as number;
  if (type !== UBYTE) {
    const name = IDX_TYPES[type];
    throw new IoError(
      ErrorCode.NotADataFile,
      `IDX element type 0x${type.toString(16).padStart(2, '0')} (${name ?? 'unknown'}) is not supported; only 0x08 (unsigned byte) is`,
      { location },
    );
  }
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `truncated IDX header: expected at least ${headerSize} bytes for ${ndims} dimensions, file has ${bytes.length}${unpacked}`,
      { location },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + count;
  if (bytes.length !== expected) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `IDX size is wrong: dimensions ${dims.join('×')} need ${expected} bytes (${headerSize} header + ${count} values), ` +
        `file has ${bytes.length}${unpacked}${bytes.length < expected ? ', truncated' : ', extra bytes at the end'}`,
      { location },
    );
  }
  // A plain Uint8Array view, not a Buffer subarray: callers compare and copy it as Uint8Array.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, count) };
}
