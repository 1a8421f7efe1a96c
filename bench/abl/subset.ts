import { openParquetWriter } from '../../src/io/openParquetWriter.js';
import { iterateDataset } from '../../src/io/readDataset.js';

/**
 * Copies the first `rows` rows of a dataset into one Parquet file (schema and metadata kept). The
 * benchmark's training subset: Fashion-MNIST's training file is already in random order, so its first
 * rows are a fair sample of every class.
 */
export async function writeSubset(input: string, output: string, rows: number): Promise<number> {
  let writer: ReturnType<typeof openParquetWriter> | null = null;
  let left = rows;
  try {
    for await (const { batch } of iterateDataset(input)) {
      if (left <= 0) break;
      writer ??= openParquetWriter(output, batch.schema);
      const part = batch.numRows > left ? batch.slice(0, left) : batch;
      await writer.write(part);
      left -= part.numRows;
    }
    if (!writer) throw new Error(`${input} has no rows`);
    return await writer.close();
  } catch (error) {
    await writer?.abort();
    throw error;
  }
}
