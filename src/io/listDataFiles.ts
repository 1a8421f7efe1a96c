import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, IoError } from '../errors.js';
import type { DataFile } from './dataFile.js';
import { sniffFormat } from './sniffFormat.js';

/** File name endings taken as data when a folder is scanned; other files in the folder are ignored. */
export const DATA_FILE_EXTENSIONS = ['.parquet', '.pq', '.arrow', '.feather', '.arrows', '.ipc'] as const;

/**
 * Resolves a dataset path — one file, or a folder of files and hive-style `key=value/` partition
 * folders — to its data files in a stable order (sorted by relative path), so row order and derived ids
 * are the same on every run.
 *
 * Hidden files, `_`-prefixed files (`_SUCCESS`, `_metadata`) and unfinished temporary files are skipped,
 * as Spark and pyarrow do.
 *
 * @param input - path to a file or folder.
 * @returns the files, each with its format sniffed from its bytes.
 * @throws IoError when the path is missing, a file is not Parquet/Arrow, or a folder holds no data file.
 */
export async function listDataFiles(input: string): Promise<DataFile[]> {
  const root = resolve(input);
  const st = await stat(root).catch((cause: NodeJS.ErrnoException) => {
    throw new IoError(
      ErrorCode.FileNotFound,
      cause.code === 'ENOENT' ? 'no such file or folder' : `cannot read: ${cause.message}`,
      { cause, location: { file: input } },
    );
  });
  if (st.isFile()) return [await describe(root, basename(root), {}, input)];

  const found: DataFile[] = [];
  await walk(root, root, {}, found);
  if (found.length === 0) {
    throw new IoError(
      ErrorCode.EmptyDataset,
      `folder holds no data files (looked for ${DATA_FILE_EXTENSIONS.join(', ')})`,
      { location: { file: input } },
    );
  }
  found.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return found;
}

async function walk(
  root: string,
  dir: string,
  partition: Record<string, string>,
  out: DataFile[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new IoError(ErrorCode.FileNotFound, `cannot list folder: ${cause.message}`, {
      cause,
      location: { file: dir },
    });
  });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.startsWith('_') || entry.name.includes('.tmp-')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      const eq = entry.name.indexOf('=');
      const next =
        eq > 0
          ? { ...partition, [entry.name.slice(0, eq)]: partitionValue(entry.name.slice(eq + 1)) }
          : partition;
      await walk(root, full, next, out);
    } else if (entry.isFile() && DATA_FILE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
      out.push(await describe(full, relative(root, full).split(sep).join('/'), partition, full));
    }
  }
}

/**
 * Hive writers percent-encode partition values; a folder named by hand may hold a literal `%`, which
 * is kept as it is rather than failing the whole read.
 */
function partitionValue(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

async function describe(
  path: string,
  relPath: string,
  partition: Record<string, string>,
  shown: string,
): Promise<DataFile> {
  const format = await sniffFormat(path).catch((cause: unknown) => {
    if (cause instanceof IoError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new IoError(ErrorCode.FileNotFound, `cannot read: ${message}`, {
      cause,
      location: { file: shown },
    });
  });
  if (format === null) {
    throw new IoError(ErrorCode.NotADataFile, 'not a Parquet or Arrow IPC file (unrecognised magic bytes)', {
      location: { file: shown },
    });
  }
  return { path, relPath, format, partition };
}
