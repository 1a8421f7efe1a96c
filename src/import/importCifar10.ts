import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageShape } from '../data/imageShape.js';
import { DataError, describeError, ErrorCode, IoError } from '../errors.js';
import type { ImageRows } from './imageTable.js';
import { type ImportResult, writeImageRows } from './writeImageRows.js';

/** The CIFAR-10 classes, index = label, as listed in the dataset's `batches.meta.txt`. */
export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

/** The `source` value of every imported CIFAR-10 row. */
export const CIFAR10_SOURCE = 'cifar-10';

/** The folder the official binary tarball unpacks to. */
const SUBFOLDER = 'cifar-10-batches-bin';
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';
const META_FILE = 'batches.meta.txt';

const SHAPE: ImageShape = { height: 32, width: 32, channels: 3 };
const PLANE = SHAPE.height * SHAPE.width;
const RECORD = 1 + PLANE * SHAPE.channels;

/** Options of {@link importCifar10}. */
export interface ImportCifar10Options {
  /** The `cifar-10-batches-bin` folder of the binary version, or the folder holding it. */
  readonly from: string;
  /** Folder to write `train.parquet` and `test.parquet` into; created if missing. */
  readonly out: string;
}

/**
 * Imports CIFAR-10 (32×32 colour images in 10 classes, 50,000 train + 10,000 test) from its binary
 * batches into `out/train.parquet` and `out/test.parquet`.
 *
 * <span class="informal">Each record of the `.bin` files is one label byte then 3072 pixel bytes,
 * stored as three 32×32 planes (red, green, blue); they are rearranged to HWC (RGB per pixel).</span>
 *
 * Train rows are `data_batch_1.bin` … `data_batch_5.bin` in order, with ids `train-00000` …
 * `train-49999`; test rows have ids `test-00000` …. Class names come from `batches.meta.txt` when it is
 * present, else the standard ten. Every file is read and checked before either output is written.
 *
 * @example
 * ```ts
 * const { train, test } = await importCifar10({ from: 'downloads/cifar-10-batches-bin', out: 'data/cifar10' });
 * ```
 * @param options - the source folder and the output folder.
 * @returns what was written for each split.
 * @throws IoError (FileNotFound) naming a missing folder or batch file; IoError (CorruptFile) naming a
 *   file whose size is not a whole number of 3073-byte records, or a meta file without ten names;
 *   DataError (BadLabel) naming the file and record of a label above 9.
 * @see importIdx
 */
export async function importCifar10(
  options: ImportCifar10Options,
): Promise<{ train: ImportResult; test: ImportResult }> {
  const dir = await findBatchFolder(options.from);
  const classNames = await readClassNames(join(dir, META_FILE));
  const [trainBatches, testBatch] = await Promise.all([
    Promise.all(TRAIN_FILES.map((name) => readBatchFile(join(dir, name)))),
    readBatchFile(join(dir, TEST_FILE)),
  ]);
  const trainRows = toRows(trainBatches, 'train', classNames);
  const testRows = toRows([testBatch], 'test', classNames);
  const train = await writeImageRows(join(options.out, 'train.parquet'), trainRows);
  const test = await writeImageRows(join(options.out, 'test.parquet'), testRows);
  return { train, test };
}

/** One batch file, converted: HWC images and labels. */
interface Batch {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
}

async function findBatchFolder(from: string): Promise<string> {
  const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() === true;
  if (!(await isDir(from))) {
    throw new IoError(ErrorCode.FileNotFound, 'no such folder (expected the CIFAR-10 binary version)', {
      location: { file: from },
    });
  }
  const hasBatches = async (p: string) => (await stat(join(p, TEST_FILE)).catch(() => null)) !== null;
  if (!(await hasBatches(from)) && (await isDir(join(from, SUBFOLDER)))) return join(from, SUBFOLDER);
  return from;
}

async function readClassNames(path: string): Promise<readonly string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return CIFAR10_CLASS_NAMES;
    throw new IoError(ErrorCode.FileNotFound, `cannot read: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (names.length !== CIFAR10_CLASS_NAMES.length) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `expected ${CIFAR10_CLASS_NAMES.length} class names, one per line; found ${names.length}`,
      { location: { file: path } },
    );
  }
  return names;
}

async function readBatchFile(path: string): Promise<Batch> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new IoError(
      ErrorCode.FileNotFound,
      missing
        ? `CIFAR-10 batch file is missing (expected ${[...TRAIN_FILES, TEST_FILE].join(', ')})`
        : `cannot read: ${describeError(cause)}`,
      { cause, location: { file: path } },
    );
  }
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    const whole = Math.floor(bytes.length / RECORD);
    throw new IoError(
      ErrorCode.CorruptFile,
      `expected a non-zero multiple of ${RECORD} bytes (1 label + 3072 pixels per record), ` +
        `got ${bytes.length} bytes (${whole} records and ${bytes.length % RECORD} bytes over); truncated or not CIFAR-10 binary`,
      { location: { file: path } },
    );
  }
  const n = bytes.length / RECORD;
  const images = new Uint8Array(n * PLANE * 3);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * RECORD;
    const label = bytes[base] as number;
    if (label >= CIFAR10_CLASS_NAMES.length) {
      throw new DataError(
        ErrorCode.BadLabel,
        `record ${r} has label ${label}; CIFAR-10 labels are 0-9 (is this CIFAR-100, whose records have two label bytes?)`,
        { location: { file: path, row: r } },
      );
    }
    labels[r] = label;
    // CHW planes -> HWC: pixel p's red, green and blue are PLANE bytes apart in the record.
    const src = base + 1;
    const dst = r * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = bytes[src + p] as number;
      images[dst + 3 * p + 1] = bytes[src + PLANE + p] as number;
      images[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p] as number;
    }
  }
  return { images, labels };
}

function toRows(batches: readonly Batch[], split: string, classNames: readonly string[]): ImageRows {
  const n = batches.reduce((sum, b) => sum + b.labels.length, 0);
  const images = new Uint8Array(n * PLANE * 3);
  const labels = new Int32Array(n);
  let at = 0;
  for (const b of batches) {
    images.set(b.images, at * PLANE * 3);
    labels.set(b.labels, at);
    at += b.labels.length;
  }
  const ids = Array.from({ length: n }, (_, i) => `${split}-${String(i).padStart(5, '0')}`);
  return { images, labels, shape: SHAPE, ids, split, source: CIFAR10_SOURCE, classNames };
}
