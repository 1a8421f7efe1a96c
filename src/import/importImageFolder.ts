import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEncodedImage } from '../data/decodeEncodedImage.js';
import { formatShape, type ImageShape, imageSize } from '../data/imageShape.js';
import { DataError, describeError, ErrorCode, IoError } from '../errors.js';
import { type ImportResult, writeImageRows } from './writeImageRows.js';

/** File name endings taken as images (case-insensitive); other files are ignored, as torchvision does. */
export const IMAGE_FILE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Options of {@link importImageFolder}. */
export interface ImportImageFolderOptions {
  /** The folder holding one sub-folder per class. */
  readonly dir: string;
  /** The Parquet file to write. */
  readonly out: string;
  /** Split of every row (default `train`). */
  readonly split?: string | undefined;
}

/** One image file found under the folder. */
interface ImageFile {
  /** Path relative to `dir`, `/`-separated: the row's id and source. */
  readonly rel: string;
  readonly path: string;
  readonly label: number;
}

/**
 * Imports a folder of images laid out one sub-folder per class (`dir/<class>/<image>.png`, the
 * torchvision `ImageFolder` layout) as one Parquet file of raw pixels.
 *
 * <span class="informal">Class names are the sub-folder names in sorted order and the label is the
 * index; each row's id and source are its path relative to `dir`, e.g. `cat/0001.png`.</span>
 *
 * PNG and JPEG files are decoded (see decodeEncodedImage: alpha dropped, grey JPEGs as one channel) and
 * their pixels stored raw, so later stages do not decode again. All images must have one height and
 * width. Grey and colour images may be mixed: grey ones are then repeated into three channels, since a
 * JPEG decoder reports a colour photo that happens to be grey as grey. Files and folders whose names
 * start with `.` are ignored, as are files other than PNG/JPEG and files directly in `dir`; class
 * folders are searched recursively, and a class folder without images keeps its label with no rows.
 *
 * @example
 * ```ts
 * const r = await importImageFolder({ dir: 'photos', out: 'data/train.parquet' });
 * console.log(r.classCounts); // rows per class, in sorted folder-name order
 * ```
 * @param options - the folder, the output file and the split.
 * @returns the written file's path, row count, shape and class counts.
 * @throws IoError (FileNotFound) when `dir` is missing or not a folder; DataError (EmptyDataset) when it
 *   has no class folders or no images; DataError (BadImage) naming a file that does not decode;
 *   DataError (MixedImageShapes) naming a file whose size differs from the first image's.
 * @see importIdx
 */
export async function importImageFolder(options: ImportImageFolderOptions): Promise<ImportResult> {
  const { dir } = options;
  const split = options.split ?? 'train';
  const st = await stat(dir).catch((cause: NodeJS.ErrnoException) => {
    throw new IoError(
      ErrorCode.FileNotFound,
      cause.code === 'ENOENT' ? 'no such folder' : `cannot read: ${cause.message}`,
      { cause, location: { file: dir } },
    );
  });
  if (!st.isDirectory()) {
    throw new IoError(ErrorCode.FileNotFound, 'not a folder (expected one sub-folder per class)', {
      location: { file: dir },
    });
  }

  const classNames: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!isHidden(entry.name) && (await isFolder(dir, entry))) classNames.push(entry.name);
  }
  classNames.sort(byCodeUnits);
  if (classNames.length === 0) {
    throw new DataError(
      ErrorCode.EmptyDataset,
      'no class folders: expected one sub-folder per class, each holding that class’s PNG/JPEG images',
      { location: { file: dir } },
    );
  }

  const files: ImageFile[] = [];
  for (const [label, name] of classNames.entries()) {
    const found: ImageFile[] = [];
    await collectImages(dir, name, label, found);
    found.sort((a, b) => byCodeUnits(a.rel, b.rel));
    for (const f of found) files.push(f);
  }
  if (files.length === 0) {
    throw new DataError(
      ErrorCode.EmptyDataset,
      `no PNG or JPEG images in the class folders (${classNames.join(', ')})`,
      { location: { file: dir } },
    );
  }

  const decoded = await decodeAll(files);
  const first = decoded[0] as Decoded;
  const channels = decoded.some((d) => d.shape.channels === 3) ? 3 : first.shape.channels;
  const shape: ImageShape = { height: first.shape.height, width: first.shape.width, channels };
  const size = imageSize(shape);
  const images = new Uint8Array(files.length * size);
  for (const [i, d] of decoded.entries()) {
    const pixels = d.shape.channels === channels ? d.pixels : greyToRgb(d.pixels);
    images.set(pixels, i * size);
  }
  const ids = files.map((f) => f.rel);
  return writeImageRows(options.out, {
    images,
    labels: Int32Array.from(files, (f) => f.label),
    shape,
    ids,
    split,
    source: ids,
    classNames,
  });
}

interface Decoded {
  readonly pixels: Uint8Array;
  readonly shape: ImageShape;
}

async function decodeAll(files: readonly ImageFile[]): Promise<Decoded[]> {
  const out: Decoded[] = [];
  let expected: { shape: ImageShape; file: string } | null = null;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file.path);
    } catch (cause) {
      throw new IoError(ErrorCode.FileNotFound, `cannot read: ${describeError(cause)}`, {
        cause,
        location: { file: file.path },
      });
    }
    let img: Decoded;
    try {
      img = decodeEncodedImage(bytes);
    } catch (cause) {
      throw new DataError(ErrorCode.BadImage, `cannot decode image: ${describeError(cause)}`, {
        cause,
        location: { file: file.path },
      });
    }
    if (expected === null) {
      expected = { shape: img.shape, file: file.path };
    } else if (img.shape.height !== expected.shape.height || img.shape.width !== expected.shape.width) {
      throw new DataError(
        ErrorCode.MixedImageShapes,
        `image is ${formatShape(img.shape)} but the first image, ${expected.file}, is ${formatShape(expected.shape)}; all images must have one height and width`,
        { location: { file: file.path } },
      );
    }
    out.push(img);
  }
  return out;
}

async function collectImages(root: string, rel: string, label: number, out: ImageFile[]): Promise<void> {
  const dir = join(root, rel);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (isHidden(entry.name)) continue;
    const childRel = `${rel}/${entry.name}`;
    if (await isFolder(dir, entry)) {
      await collectImages(root, childRel, label, out);
    } else if (IMAGE_FILE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
      out.push({ rel: childRel, path: join(root, childRel), label });
    }
  }
}

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** Folders, and symbolic links to folders (common when classes are assembled from elsewhere). */
async function isFolder(parent: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(join(parent, entry.name)).catch(() => null))?.isDirectory() === true;
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i] as number;
    rgb[3 * i] = v;
    rgb[3 * i + 1] = v;
    rgb[3 * i + 2] = v;
  }
  return rgb;
}

/** Plain code-unit order, not locale order, so the class-to-label mapping is the same on every machine. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
