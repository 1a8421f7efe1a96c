import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEncodedImage } from '../../../src/data/decodeEncodedImage.js';
import { DataError, ErrorCode, IoError } from '../../../src/errors.js';
import { importImageFolder } from '../../../src/import/importImageFolder.js';
import {
  duckdbRows,
  listNames,
  makeTempDir,
  patternImages,
  readBack,
  removeTempDirs,
  sqlString,
} from './helpers.js';

afterEach(removeTempDirs);

function png(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  return encodePng({ width, height, data: pixels, channels, depth: 8 });
}

/** A JPEG of RGB pixels (jpeg-js encodes RGBA; alpha is set opaque). */
function jpegOf(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, 95).data);
}

async function put(root: string, rel: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), bytes);
}

const grey = Array.from({ length: 5 }, (_, i) => patternImages(1, 16, i));

/** Two classes of 4×4 grey PNGs, plus things that must be ignored. */
async function greyFolder(): Promise<{ dir: string; out: string; outDir: string }> {
  const root = await makeTempDir();
  const dir = join(root, 'images');
  await put(dir, 'dog/b.png', png(grey[0] as Uint8Array, 4, 4, 1));
  await put(dir, 'dog/a.PNG', png(grey[1] as Uint8Array, 4, 4, 1));
  await put(dir, 'cat/2.png', png(grey[2] as Uint8Array, 4, 4, 1));
  await put(dir, 'cat/10.png', png(grey[3] as Uint8Array, 4, 4, 1));
  await put(dir, 'cat/deeper/x.png', png(grey[4] as Uint8Array, 4, 4, 1));
  // Ignored: hidden files and folders, non-image files, files at the top level.
  await put(dir, 'cat/.hidden.png', 'not an image');
  await put(dir, '.git/objects/y.png', 'not an image');
  await put(dir, 'dog/notes.txt', 'not an image');
  await put(dir, 'top-level.png', 'not an image');
  const outDir = join(root, 'out');
  return { dir, out: join(outDir, 'train.parquet'), outDir };
}

async function expectError(
  run: Promise<unknown>,
  type: typeof DataError | typeof IoError,
  code: ErrorCode,
  parts: readonly string[],
): Promise<Error> {
  const err = await run.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect((err as DataError).code).toBe(code);
  for (const part of parts) expect((err as Error).message).toContain(part);
  return err as Error;
}

describe('importImageFolder', () => {
  it('labels images by sorted class folder, with relative paths as ids and sources', async () => {
    const { dir, out, outDir } = await greyFolder();
    const result = await importImageFolder({ dir, out });
    expect(result).toEqual({
      path: out,
      rows: 5,
      shape: { height: 4, width: 4, channels: 1 },
      classCounts: [3, 2],
    });
    expect(await listNames(outDir)).toEqual(['train.parquet']);

    const back = await readBack(out);
    const ids = ['cat/10.png', 'cat/2.png', 'cat/deeper/x.png', 'dog/a.PNG', 'dog/b.png'];
    expect(back.ids).toEqual(ids);
    expect(back.sources).toEqual(ids);
    expect(back.labels).toEqual([0, 0, 0, 1, 1]);
    expect(back.classNames).toEqual(['cat', 'dog']);
    expect(back.splits).toEqual(new Array(5).fill('train'));
    const order = [3, 2, 4, 1, 0];
    expect(back.images).toEqual(Uint8Array.from(order.flatMap((i) => [...(grey[i] as Uint8Array)])));
  });

  it('stores raw RGB pixels, readable by DuckDB, under the split given', async () => {
    const root = await makeTempDir();
    const dir = join(root, 'rgb');
    const red = patternImages(1, 2 * 3 * 3, 7);
    await put(dir, 'red/r.png', png(red, 3, 2, 3));
    // An RGBA PNG: alpha is dropped.
    const rgba = patternImages(1, 2 * 3 * 4, 8);
    await put(dir, 'blue/b.png', png(rgba, 3, 2, 4));
    const out = join(root, 'val.parquet');
    const result = await importImageFolder({ dir, out, split: 'val' });
    expect(result.shape).toEqual({ height: 2, width: 3, channels: 3 });

    const rows = await duckdbRows(
      `SELECT id, label, split, source, image FROM read_parquet(${sqlString(out)}) ORDER BY id`,
    );
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['blue/b.png', 0, 'val', 'blue/b.png'],
      ['red/r.png', 1, 'val', 'red/r.png'],
    ]);
    const rgbOfRgba = Uint8Array.from(
      { length: 18 },
      (_, k) => rgba[Math.floor(k / 3) * 4 + (k % 3)] as number,
    );
    expect(new Uint8Array(rows[0]?.[4] as Uint8Array)).toEqual(rgbOfRgba);
    expect(new Uint8Array(rows[1]?.[4] as Uint8Array)).toEqual(red);
  });

  it('stores JPEG pixels as decoded, and repeats grey images into RGB beside colour ones', async () => {
    const root = await makeTempDir();
    const dir = join(root, 'mixed');
    const colour = patternImages(1, 8 * 8 * 3, 3);
    const colourJpeg = jpegOf(colour, 8, 8);
    const greyPixels = patternImages(1, 64, 4);
    await put(dir, 'a/colour.jpg', colourJpeg);
    await put(dir, 'b/grey.png', png(greyPixels, 8, 8, 1));
    const out = join(root, 'out.parquet');
    expect((await importImageFolder({ dir, out })).shape).toEqual({ height: 8, width: 8, channels: 3 });

    const back = await readBack(out);
    const decoded = decodeEncodedImage(colourJpeg);
    expect(decoded.shape.channels).toBe(3);
    expect(back.images.subarray(0, 192)).toEqual(decoded.pixels);
    expect(back.images.subarray(192)).toEqual(
      Uint8Array.from({ length: 192 }, (_, k) => greyPixels[Math.floor(k / 3)] as number),
    );
  });

  it('names the file that does not decode, and writes nothing', async () => {
    const { dir, out, outDir } = await greyFolder();
    await put(dir, 'dog/c.png', 'this is not a PNG');
    const err = await expectError(importImageFolder({ dir, out }), DataError, ErrorCode.BadImage, [
      join(dir, 'dog/c.png'),
      'cannot decode image',
    ]);
    expect((err as DataError).location).toEqual({ file: join(dir, 'dog/c.png') });
    expect(await listNames(outDir)).toEqual([]);
  });

  it('names the image of another size and the expected shape, and writes nothing', async () => {
    const { dir, out, outDir } = await greyFolder();
    await put(dir, 'dog/c.png', png(patternImages(1, 20), 5, 4, 1));
    await expectError(importImageFolder({ dir, out }), DataError, ErrorCode.MixedImageShapes, [
      `file ${join(dir, 'dog/c.png')}`,
      'image is 4x5x1',
      `the first image, ${join(dir, 'cat/10.png')}, is 4x4x1`,
    ]);
    expect(await listNames(outDir)).toEqual([]);
  });

  it('rejects a folder without class folders', async () => {
    const dir = await makeTempDir();
    await put(dir, 'loose.png', png(grey[0] as Uint8Array, 4, 4, 1));
    await put(dir, '.hidden/x.png', png(grey[0] as Uint8Array, 4, 4, 1));
    const out = join(dir, 'out', 'x.parquet');
    await expectError(importImageFolder({ dir, out }), DataError, ErrorCode.EmptyDataset, [
      dir,
      'no class folders',
    ]);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('rejects class folders without images', async () => {
    const dir = await makeTempDir();
    await put(dir, 'cat/readme.txt', 'no images here');
    await mkdir(join(dir, 'dog'));
    await expectError(
      importImageFolder({ dir, out: join(dir, 'x.parquet') }),
      DataError,
      ErrorCode.EmptyDataset,
      [dir, 'no PNG or JPEG images in the class folders (cat, dog)'],
    );
  });

  it('keeps the label of an empty class folder', async () => {
    const { dir, out } = await greyFolder();
    await mkdir(join(dir, 'bird'));
    const result = await importImageFolder({ dir, out });
    expect(result.classCounts).toEqual([0, 3, 2]);
    const back = await readBack(out);
    expect(back.classNames).toEqual(['bird', 'cat', 'dog']);
    expect(back.labels).toEqual([1, 1, 1, 2, 2]);
  });

  it('names a missing folder, and a file given as the folder', async () => {
    const root = await makeTempDir();
    const missing = join(root, 'missing');
    await expectError(
      importImageFolder({ dir: missing, out: join(root, 'x.parquet') }),
      IoError,
      ErrorCode.FileNotFound,
      [missing, 'no such folder'],
    );
    const file = join(root, 'file.png');
    await put(root, 'file.png', png(grey[0] as Uint8Array, 4, 4, 1));
    await expectError(
      importImageFolder({ dir: file, out: join(root, 'x.parquet') }),
      IoError,
      ErrorCode.FileNotFound,
      [file, 'not a folder'],
    );
    expect(await listNames(root)).toEqual(['file.png']);
  });
});
