import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, IoError } from '../errors.js';
import { FASHION_MNIST_DEFAULT_DIR } from './fashionMnistDir.js';
import { readIdxRows } from './importIdx.js';
import { type ImportResult, writeImageRows } from './writeImageRows.js';

export { FASHION_MNIST_DEFAULT_DIR } from './fashionMnistDir.js';

/** The ten Fashion-MNIST classes, index = label, as named by Zalando Research. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** The `source` value of every imported Fashion-MNIST row. */
export const FASHION_MNIST_SOURCE = 'fashion-mnist';

/** Options of {@link importFashionMnist}. */
export interface ImportFashionMnistOptions {
  /** Folder holding the four IDX files, gzip or plain (default {@link FASHION_MNIST_DEFAULT_DIR}). */
  readonly from?: string | undefined;
  /** Folder to write `train.parquet` and `test.parquet` into; created if missing. */
  readonly out: string;
}

/** The four files of a Fashion-MNIST folder. */
export interface FashionMnistFiles {
  readonly trainImages: string;
  readonly trainLabels: string;
  readonly testImages: string;
  readonly testLabels: string;
}

const HINT =
  'install it with `apt-get install dataset-fashion-mnist`, or point --from at a folder holding it';

/**
 * Finds the four Fashion-MNIST IDX files in a folder, each as `<name>.gz` or plain `<name>`.
 *
 * <span class="informal">The gzip name wins when both are present; content, not name, decides
 * whether a file is gunzipped when read.</span>
 *
 * @example
 * ```ts
 * const files = await findFashionMnistFiles('/usr/share/datasets/fashion-mnist');
 * ```
 * @param dir - the folder.
 * @returns the path of each file.
 * @throws IoError (FileNotFound) naming the folder or the missing file, with how to get the data.
 * @see importFashionMnist
 */
export async function findFashionMnistFiles(dir: string): Promise<FashionMnistFiles> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) {
    throw new IoError(ErrorCode.FileNotFound, `no Fashion-MNIST folder here; ${HINT}`, {
      location: { file: dir },
    });
  }
  const find = async (name: string): Promise<string> => {
    for (const candidate of [`${name}.gz`, name]) {
      const path = join(dir, candidate);
      if (await exists(path)) return path;
    }
    throw new IoError(
      ErrorCode.FileNotFound,
      `Fashion-MNIST file ${name}.gz (or ${name}) is missing from the folder; ${HINT}`,
      { location: { file: join(dir, `${name}.gz`) } },
    );
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    find('train-images-idx3-ubyte'),
    find('train-labels-idx1-ubyte'),
    find('t10k-images-idx3-ubyte'),
    find('t10k-labels-idx1-ubyte'),
  ]);
  return { trainImages, trainLabels, testImages, testLabels };
}

/**
 * Imports Fashion-MNIST (Zalando's 28×28 grey clothing images, 60,000 train + 10,000 test) from its IDX
 * files into `out/train.parquet` and `out/test.parquet`.
 *
 * <span class="informal">Rows get ids `train-00000`… and `test-00000`… (the index in the original
 * files), split `train`/`test`, source `fashion-mnist`, and the ten class names in the metadata.</span>
 *
 * Both splits are read and checked before either file is written, so a corrupt test file does not leave
 * a new train file beside an old test file.
 *
 * @example
 * ```ts
 * const { train, test } = await importFashionMnist({ out: 'data/fashion-mnist' });
 * // train.rows === 60000, test.rows === 10000
 * ```
 * @param options - the source folder (default: the Debian package's) and the output folder.
 * @returns what was written for each split.
 * @throws IoError naming the missing folder or file (with how to install the data), or a corrupt file;
 *   DataError when images and labels do not match.
 * @see importIdx
 */
export async function importFashionMnist(
  options: ImportFashionMnistOptions,
): Promise<{ train: ImportResult; test: ImportResult }> {
  const files = await findFashionMnistFiles(options.from ?? FASHION_MNIST_DEFAULT_DIR);
  const common = { source: FASHION_MNIST_SOURCE, classNames: FASHION_MNIST_CLASS_NAMES };
  const [trainRows, testRows] = await Promise.all([
    readIdxRows({ images: files.trainImages, labels: files.trainLabels, split: 'train', ...common }),
    readIdxRows({ images: files.testImages, labels: files.testLabels, split: 'test', ...common }),
  ]);
  const train = await writeImageRows(join(options.out, 'train.parquet'), trainRows);
  const test = await writeImageRows(join(options.out, 'test.parquet'), testRows);
  return { train, test };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
