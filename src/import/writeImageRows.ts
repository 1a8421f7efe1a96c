import type { ImageShape } from '../data/imageShape.js';
import { buildImageTable, type ImageRows, writeImageDataset } from './imageTable.js';

/** What an importer wrote: one Parquet file and a summary of its rows. */
export interface ImportResult {
  /** The Parquet file written. */
  readonly path: string;
  readonly rows: number;
  readonly shape: ImageShape;
  /**
   * Rows per label, index = label. As long as the class names when there are some (so empty classes
   * show as 0), else up to the largest label.
   */
  readonly classCounts: number[];
}

/**
 * Writes imported rows as one Parquet file (atomically) and summarises them: the last step every
 * importer shares.
 *
 * <span class="informal">Builds the Arrow table, writes it, and counts rows per class.</span>
 *
 * @example
 * ```ts
 * const result = await writeImageRows('out/train.parquet', rows);
 * console.log(result.rows, result.classCounts);
 * ```
 * @param path - the `.parquet` file to create or replace.
 * @param rows - the decoded rows.
 * @returns the path, row count, image shape and class counts.
 * @throws DataError when the rows are inconsistent; IoError (WriteFailed) naming the file.
 * @see buildImageTable
 */
export async function writeImageRows(path: string, rows: ImageRows): Promise<ImportResult> {
  await writeImageDataset(path, buildImageTable(rows));
  return { path, rows: rows.ids.length, shape: rows.shape, classCounts: countClasses(rows) };
}

function countClasses(rows: ImageRows): number[] {
  let numClasses = rows.classNames?.length ?? 0;
  for (const label of rows.labels) numClasses = Math.max(numClasses, label + 1);
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of rows.labels) counts[label] = (counts[label] as number) + 1;
  return counts;
}
