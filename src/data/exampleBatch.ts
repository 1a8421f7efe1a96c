import type { RecordBatch } from 'apache-arrow';
import type { DataFile } from '../io/dataFile.js';
import type { ImageShape } from './imageShape.js';

/**
 * Decoded training examples: what the training and scoring stages consume. Pixels are uint8 HWC,
 * unscaled, so that caching a dataset costs one byte a pixel.
 */
export interface ExampleBatch {
  /** Stable row ids: the id column's values, or `<file>#<row>` when there is no id column. */
  readonly ids: readonly string[];
  /** `ids.length × H × W × C` bytes, row-major HWC. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly shape: ImageShape;
  /** The source rows, every original column unchanged, for writing quarantine partitions. */
  readonly batch: RecordBatch;
  readonly file: DataFile;
  /** Row index, within `file`, of the first row. */
  readonly rowOffset: number;
}
