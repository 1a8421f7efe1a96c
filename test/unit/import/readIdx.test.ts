import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { readIdx } from '../../../src/import/readIdx.js';
import { idxBytes, makeTempDir, patternImages, removeTempDirs } from './helpers.js';

afterEach(removeTempDirs);

const pixels = patternImages(3, 4 * 5);
const idx = idxBytes([3, 4, 5], pixels);

async function fileWith(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(await makeTempDir(), name);
  await writeFile(path, bytes);
  return path;
}

async function expectIoError(path: string, code: ErrorCode, message: RegExp): Promise<void> {
  const err = await readIdx(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IoError);
  expect((err as IoError).code).toBe(code);
  expect((err as IoError).location?.file).toBe(path);
  expect((err as IoError).message).toContain(path);
  expect((err as IoError).message).toMatch(message);
}

describe('readIdx', () => {
  it('reads dimensions and values of a plain file', async () => {
    const { dims, data } = await readIdx(await fileWith('images-idx3-ubyte', idx));
    expect(dims).toEqual([3, 4, 5]);
    expect(data).toEqual(pixels);
  });

  it('gunzips by content, whatever the name', async () => {
    const gz = gzipSync(idx);
    for (const name of ['x.gz', 'x-not-named-gz']) {
      expect((await readIdx(await fileWith(name, gz))).data).toEqual(pixels);
    }
    // A plain file named .gz is read as plain.
    expect((await readIdx(await fileWith('plain.gz', idx))).dims).toEqual([3, 4, 5]);
  });

  it('reads a one-dimensional labels file', async () => {
    const { dims, data } = await readIdx(await fileWith('labels', idxBytes([4], Uint8Array.of(9, 0, 3, 1))));
    expect(dims).toEqual([4]);
    expect([...data]).toEqual([9, 0, 3, 1]);
  });

  it('names a missing file', async () => {
    const path = join(await makeTempDir(), 'nope-idx3-ubyte.gz');
    await expectIoError(path, ErrorCode.FileNotFound, /no such file/);
  });

  it('rejects a bad magic number', async () => {
    const path = await fileWith('bad', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    await expectIoError(path, ErrorCode.CorruptFile, /magic number is '01 02 03 04'/);
  });

  it('rejects a file too short for its header', async () => {
    const path = await fileWith('short', idx.subarray(0, 9));
    await expectIoError(path, ErrorCode.CorruptFile, /expected at least 16 bytes .* file has 9/);
  });

  it('gives the expected and actual size of a truncated file', async () => {
    const path = await fileWith('cut', idx.subarray(0, idx.length - 7));
    await expectIoError(path, ErrorCode.CorruptFile, /need 76 bytes .* file has 69, truncated/);
  });

  it('says the size is after gunzip for a gzip file', async () => {
    const path = await fileWith('cut.gz', gzipSync(idx.subarray(0, idx.length - 7)));
    await expectIoError(path, ErrorCode.CorruptFile, /file has 69 \(after gunzip\)/);
  });

  it('rejects extra bytes at the end', async () => {
    const path = await fileWith('long', Uint8Array.from([...idx, 0, 0]));
    await expectIoError(path, ErrorCode.CorruptFile, /need 76 bytes .* file has 78, extra bytes/);
  });

  it('rejects a truncated gzip stream', async () => {
    const gz = gzipSync(idx);
    const path = await fileWith('broken.gz', gz.subarray(0, gz.length - 10));
    await expectIoError(path, ErrorCode.CorruptFile, /corrupt gzip data/);
  });

  it('names element types other than unsigned byte', async () => {
    const path = await fileWith('floats', idxBytes([1], new Uint8Array(4), 0x0d));
    await expectIoError(path, ErrorCode.NotADataFile, /0x0d \(float32\) is not supported/);
  });
});
