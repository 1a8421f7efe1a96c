import {
  Binary,
  type Data,
  Field,
  FixedSizeBinary,
  Float64,
  Int32,
  LargeBinary,
  List,
  makeData,
  type RecordBatch,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { DataError, ErrorCode } from '../../../src/errors.js';
import { batchOf, binaries, decodeAll, int32s, nestedUint8List, rowsOf } from '../../helpers/arrow.js';
import { rejection } from '../../helpers/errors.js';
import { gradient, maxAbsDiff } from '../../helpers/images.js';

const ROWS = 6;
const labels = Array.from({ length: ROWS }, (_, i) => i % 3);

/** Row i's picture: a gradient shifted by i, so rows differ and any row mix-up shows. */
function pictures(h: number, w: number, c: number): Uint8Array[] {
  return Array.from({ length: ROWS }, (_, i) => gradient(h, w, c, i));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes the batch, and its rows 2..4 as a slice, and checks both against the expected pictures. */
async function expectDecodes(
  batch: RecordBatch,
  expected: readonly Uint8Array[],
  shape: { height: number; width: number; channels: number },
  options: Parameters<typeof decodeAll>[1] = {},
  tolerance = 0,
): Promise<void> {
  const check = async (b: RecordBatch, from: number) => {
    const out = await decodeAll([b], options);
    expect(out).toHaveLength(1);
    expect(out[0]?.shape).toEqual(shape);
    const rows = rowsOf(out);
    expect(rows.labels).toEqual(labels.slice(from, from + b.numRows));
    rows.images.forEach((img, r) => {
      const want = expected[from + r] as Uint8Array;
      if (tolerance === 0) expect(img).toEqual(want);
      else expect(maxAbsDiff(img, want)).toBeLessThanOrEqual(tolerance);
    });
  };
  await check(batch, 0);
  // arrow-js slices cut value and offset buffers to the first row and slice struct and fixed-size-list
  // children; readImageCell relies on that, so every encoding is also read through a slice.
  await check(batch.slice(2, 5), 2);
}

describe('raw image bytes', () => {
  it('takes the shape from abl_audit.image_shape metadata (non-square)', async () => {
    const imgs = pictures(4, 6, 1);
    const batch = batchOf(
      { label: int32s(labels), image: binaries(imgs) },
      { 'abl_audit.image_shape': '4,6,1' },
    );
    await expectDecodes(batch, imgs, { height: 4, width: 6, channels: 1 });
  });

  it('guesses 784 bytes as 28x28x1', async () => {
    const imgs = pictures(28, 28, 1);
    await expectDecodes(batchOf({ label: int32s(labels), image: binaries(imgs) }), imgs, {
      height: 28,
      width: 28,
      channels: 1,
    });
  });

  it('guesses 3072 bytes as 32x32x3', async () => {
    const imgs = pictures(32, 32, 3);
    await expectDecodes(batchOf({ label: int32s(labels), image: binaries(imgs) }), imgs, {
      height: 32,
      width: 32,
      channels: 3,
    });
  });

  it('lets imageShape override metadata and guessing', async () => {
    // 48 bytes would be guessed as nothing (not a square); metadata says 4x4x3, the override 2x8x3.
    const imgs = pictures(2, 8, 3);
    const batch = batchOf(
      { label: int32s(labels), image: binaries(imgs) },
      { 'abl_audit.image_shape': '4x4x3' },
    );
    await expectDecodes(
      batch,
      imgs,
      { height: 2, width: 8, channels: 3 },
      { imageShape: { height: 2, width: 8, channels: 3 } },
    );
  });

  it('reads LargeBinary cells', async () => {
    const imgs = pictures(4, 4, 1);
    const image = vectorFromArray(imgs, new LargeBinary());
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 4,
      width: 4,
      channels: 1,
    });
  });

  it('reads FixedSizeBinary cells', async () => {
    const imgs = pictures(3, 3, 3);
    const image = makeData({ type: new FixedSizeBinary(27), length: ROWS, data: concat(imgs) });
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 3,
      width: 3,
      channels: 3,
    });
  });

  it('names the row when no shape can be guessed', async () => {
    const batch = batchOf({ label: int32s([0]), image: binaries([new Uint8Array(10)]) });
    const err = await rejection(decodeAll([batch]));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.BadImage);
    expect(err.location).toEqual({ file: '/data/mem.parquet', column: 'image', row: 0 });
    expect(err.message).toContain('--image-shape');
  });
});

describe('images as lists of numbers', () => {
  it('reads a flat FixedSizeList<uint8>, guessing the shape', async () => {
    const imgs = pictures(5, 5, 1);
    const image = nestedUint8List([25], concat(imgs), ROWS);
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 5,
      width: 5,
      channels: 1,
    });
  });

  it('reads nested FixedSizeList [H][W][C], shape from the nesting', async () => {
    const imgs = pictures(3, 5, 2);
    const image = nestedUint8List([3, 5, 2], concat(imgs), ROWS);
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 3,
      width: 5,
      channels: 2,
    });
  });

  it('reads nested FixedSizeList [H][W] as one channel', async () => {
    const imgs = pictures(2, 7, 1);
    const image = nestedUint8List([2, 7], concat(imgs), ROWS);
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 2,
      width: 7,
      channels: 1,
    });
  });

  it('reads List<int32>', async () => {
    const imgs = pictures(4, 4, 1);
    const image = vectorFromArray(
      imgs.map((p) => [...p]),
      new List(new Field('item', new Int32(), true)),
    );
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 4,
      width: 4,
      channels: 1,
    });
  });

  it('rounds float pixels and rejects values outside 0-255, naming the row', async () => {
    const type = new List(new Field('item', new Float64(), true));
    const ok = vectorFromArray([[0, 1.4, 2.6, 255]], type);
    const [decoded] = await decodeAll([batchOf({ label: int32s([0]), image: ok })]);
    expect([...(decoded?.images ?? [])]).toEqual([0, 1, 3, 255]);

    for (const bad of [256, -1, Number.NaN]) {
      const image = vectorFromArray(
        [
          [0, 0, 0, 0],
          [0, 0, bad, 0],
        ],
        type,
      );
      const err = await rejection(decodeAll([batchOf({ label: int32s([0, 1]), image })]));
      expect(err.code).toBe(ErrorCode.BadImage);
      expect(err.location).toEqual({ file: '/data/mem.parquet', column: 'image', row: 1 });
    }
  });
});

function png(
  pixels: Uint8Array | Uint16Array,
  h: number,
  w: number,
  channels: number,
  depth: 8 | 16 = 8,
): Uint8Array {
  return encodePng({ width: w, height: h, data: pixels, channels, depth });
}

function rgbaOf(rgb: Uint8Array, alpha = 255): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    out[i * 4 + 3] = alpha;
  }
  return out;
}

function jpegOf(pixels: Uint8Array, h: number, w: number, channels: 1 | 3): Uint8Array {
  const rgb =
    channels === 3
      ? pixels
      : Uint8Array.from({ length: h * w * 3 }, (_, i) => pixels[Math.floor(i / 3)] as number);
  return new Uint8Array(jpeg.encode({ data: rgbaOf(rgb), width: w, height: h }, 95).data);
}

describe('encoded images', () => {
  it('decodes grey PNGs', async () => {
    const imgs = pictures(6, 5, 1);
    const image = binaries(imgs.map((p) => png(p, 6, 5, 1)));
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 6,
      width: 5,
      channels: 1,
    });
  });

  it('decodes RGB PNGs', async () => {
    const imgs = pictures(4, 7, 3);
    const image = binaries(imgs.map((p) => png(p, 4, 7, 3)));
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 4,
      width: 7,
      channels: 3,
    });
  });

  it('drops the alpha channel of RGBA and grey+alpha PNGs', async () => {
    const rgb = pictures(4, 4, 3);
    const rgba = binaries(rgb.map((p) => png(rgbaOf(p, 17), 4, 4, 4)));
    await expectDecodes(batchOf({ label: int32s(labels), image: rgba }), rgb, {
      height: 4,
      width: 4,
      channels: 3,
    });

    const grey = pictures(4, 4, 1);
    const ga = grey.map((p) =>
      Uint8Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? (p[i / 2] as number) : 99)),
    );
    const image = binaries(ga.map((p) => png(p, 4, 4, 2)));
    await expectDecodes(batchOf({ label: int32s(labels), image }), grey, {
      height: 4,
      width: 4,
      channels: 1,
    });
  });

  it('scales 16-bit PNGs to 8 bits', async () => {
    const imgs = pictures(3, 4, 1);
    // v * 257 maps 0-255 onto 0-65535 exactly, so the 8-bit value must come back unchanged.
    const image = binaries(
      imgs.map((p) =>
        png(
          Uint16Array.from(p, (v) => v * 257),
          3,
          4,
          1,
          16,
        ),
      ),
    );
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 3,
      width: 4,
      channels: 1,
    });
  });

  it('unpacks 1-, 2- and 4-bit grey PNGs, scaling to 0-255', async () => {
    for (const depth of [1, 2, 4] as const) {
      const max = (1 << depth) - 1;
      const h = 3;
      const w = 5; // rows of 5 samples do not fill whole bytes: each row is padded
      const levels = Array.from({ length: ROWS }, (_, i) =>
        Uint8Array.from({ length: h * w }, (_, k) => (i + k * 3) % (max + 1)),
      );
      const rowBytes = Math.ceil((w * depth) / 8);
      const packed = levels.map((lv) => {
        const out = new Uint8Array(rowBytes * h);
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const bit = x * depth;
            out[y * rowBytes + (bit >> 3)] =
              (out[y * rowBytes + (bit >> 3)] as number) |
              ((lv[y * w + x] as number) << (8 - depth - (bit & 7)));
          }
        return out;
      });
      const image = binaries(
        packed.map((p) => encodePng({ width: w, height: h, data: p, channels: 1, depth })),
      );
      const expected = levels.map((lv) => Uint8Array.from(lv, (v) => Math.round((v * 255) / max)));
      await expectDecodes(batchOf({ label: int32s(labels), image }), expected, {
        height: h,
        width: w,
        channels: 1,
      });
    }
  });

  it('expands palette PNGs to RGB', async () => {
    const palette = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [10, 20, 30],
    ];
    const indices = Array.from({ length: ROWS }, (_, i) =>
      Uint8Array.from({ length: 6 }, (_, k) => (i + k) % 4),
    );
    const image = binaries(
      indices.map((ix) => encodePng({ width: 3, height: 2, data: ix, channels: 1, depth: 8, palette })),
    );
    const expected = indices.map((ix) => Uint8Array.from([...ix].flatMap((k) => palette[k] as number[])));
    await expectDecodes(batchOf({ label: int32s(labels), image }), expected, {
      height: 2,
      width: 3,
      channels: 3,
    });
  });

  it('decodes colour JPEGs within tolerance', async () => {
    const imgs = pictures(8, 8, 3);
    const image = binaries(imgs.map((p) => jpegOf(p, 8, 8, 3)));
    // Quality 95 on a picture whose channels differ by 60 per step: JPEG's error stays within 16.
    await expectDecodes(
      batchOf({ label: int32s(labels), image }),
      imgs,
      { height: 8, width: 8, channels: 3 },
      {},
      16,
    );
  });

  it('returns grey JPEGs as one channel', async () => {
    const imgs = pictures(8, 8, 1);
    const image = binaries(imgs.map((p) => jpegOf(p, 8, 8, 1)));
    await expectDecodes(
      batchOf({ label: int32s(labels), image }),
      imgs,
      { height: 8, width: 8, channels: 1 },
      {},
      8,
    );
  });

  it('reads the Hugging Face image struct {bytes, path}', async () => {
    const imgs = pictures(5, 4, 3);
    const type = new Struct([new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)]);
    const image = vectorFromArray(
      imgs.map((p, i) => ({ bytes: png(p, 5, 4, 3), path: `train/${i}.png` })),
      type,
    );
    await expectDecodes(batchOf({ label: int32s(labels), image }), imgs, {
      height: 5,
      width: 4,
      channels: 3,
    });
  });

  it('expands a grey image among colour ones to RGB', async () => {
    // JPEG datasets (ImageNet, many Hugging Face sets) hold some greyscale pictures among colour ones.
    const imgs = pictures(8, 8, 3);
    const grey = gradient(8, 8, 1, 9);
    const cells = imgs.map((p) => jpegOf(p, 8, 8, 3));
    cells[3] = jpegOf(grey, 8, 8, 1);
    const expected = [...imgs];
    expected[3] = Uint8Array.from({ length: 192 }, (_, i) => grey[Math.floor(i / 3)] as number);
    await expectDecodes(
      batchOf({ label: int32s(labels), image: binaries(cells) }),
      expected,
      { height: 8, width: 8, channels: 3 },
      {},
      16,
    );
  });

  it('expands grey images to RGB when imageShape says 3 channels', async () => {
    const grey = pictures(4, 4, 1);
    const image = binaries(grey.map((p) => png(p, 4, 4, 1)));
    const expected = grey.map((p) =>
      Uint8Array.from({ length: 48 }, (_, i) => p[Math.floor(i / 3)] as number),
    );
    await expectDecodes(
      batchOf({ label: int32s(labels), image }),
      expected,
      { height: 4, width: 4, channels: 3 },
      { imageShape: { height: 4, width: 4, channels: 3 } },
    );
  });

  it('refuses a colour image after grey ones, naming the row and the way out', async () => {
    const cells = [png(gradient(4, 4, 1), 4, 4, 1), png(gradient(4, 4, 3), 4, 4, 3)];
    const err = await rejection(decodeAll([batchOf({ label: int32s([0, 1]), image: binaries(cells) })]));
    expect(err.code).toBe(ErrorCode.MixedImageShapes);
    expect(err.location).toEqual({ file: '/data/mem.parquet', column: 'image', row: 1 });
    expect(err.message).toContain('--image-shape 4x4x3');
  });

  it('names the row of an undecodable image', async () => {
    const good = png(gradient(4, 4, 1), 4, 4, 1);
    const broken = good.slice(0, 30);
    const err = await rejection(
      decodeAll([batchOf({ label: int32s([0, 1]), image: binaries([good, broken]) })]),
    );
    expect(err.code).toBe(ErrorCode.BadImage);
    expect(err.location).toEqual({ file: '/data/mem.parquet', column: 'image', row: 1 });
  });
});

describe('null cells in sliced batches', () => {
  // Validity bitmaps are not cut by slicing: the offset must be applied, or the wrong row reads as null.
  it.each([
    ['raw binary', (cells: (Uint8Array | null)[]): Data | ReturnType<typeof binaries> => binaries(cells)],
    [
      'hf struct',
      (cells: (Uint8Array | null)[]) =>
        vectorFromArray(
          cells.map((p) => (p === null ? null : { bytes: png(p, 2, 2, 1), path: null })),
          new Struct([new Field('bytes', new Binary(), true), new Field('path', new Utf8(), true)]),
        ),
    ],
  ])('reports the right row for a null %s image', async (_name, build) => {
    const cells: (Uint8Array | null)[] = pictures(2, 2, 1);
    cells[4] = null;
    const batch = batchOf({ label: int32s(labels), image: build(cells) });
    const err = await rejection(decodeAll([batch.slice(2, 6)]));
    expect(err.code).toBe(ErrorCode.BadImage);
    expect(err.message).toMatch(/null/);
    expect(err.location?.row).toBe(2);
    // Rows 0-3 have no null: decoding them through a slice must succeed.
    await expect(decodeAll([batch.slice(0, 4)])).resolves.toHaveLength(1);
  });
});
