/**
 * abl-audit's library API. Stages are plain functions returning RxJS observables or operators.
 * @packageDocumentation
 */

export { type AttackSpec, createTrigger } from './attacks/createTrigger.js';
export { ATTACK_NAMES, type AttackName, type Trigger } from './attacks/types.js';
export { type DecodeExamplesOptions, decodeExamples } from './data/decodeExamples.js';
export type { ExampleBatch } from './data/exampleBatch.js';
export {
  CLASS_NAMES_METADATA_KEY,
  formatShape,
  IMAGE_SHAPE_METADATA_KEY,
  type ImageShape,
  parseShape,
} from './data/imageShape.js';
export type { ColumnOverrides, DatasetColumns, ImageColumnSpec, ImageEncoding } from './data/inferColumns.js';
export { type DatasetSummary, type SummarizeOptions, summarizeDataset } from './data/summarizeDataset.js';
export * from './errors.js';
export { buildImageTable, type ImageRows, writeImageDataset } from './import/imageTable.js';
export { CIFAR10_CLASS_NAMES, importCifar10 } from './import/importCifar10.js';
export {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  importFashionMnist,
} from './import/importFashionMnist.js';
export { importIdx, readIdxRows } from './import/importIdx.js';
export { importImageFolder } from './import/importImageFolder.js';
export { readIdx } from './import/readIdx.js';
export { type ImportResult, writeImageRows } from './import/writeImageRows.js';
export { writeAtomically, writeFileAtomically } from './io/atomicWrite.js';
export type { DataFile, DataFormat } from './io/dataFile.js';
export { DATA_FILE_EXTENSIONS, listDataFiles } from './io/listDataFiles.js';
export { readArrowBatches } from './io/readArrowBatches.js';
export { iterateDataset, readDataset, readFileBatches, type SourceBatch } from './io/readDataset.js';
export { readParquetBatches } from './io/readParquetBatches.js';
export {
  encodeParquet,
  type ParquetCodec,
  type WriteParquetOptions,
  writeParquet,
} from './io/writeParquet.js';
export { GROUND_TRUTH_COLUMNS, POISON_METADATA_KEY } from './poison/columns.js';
export {
  type AttackParams,
  type PoisonOptions,
  type PoisonSummary,
  poisonDataset,
  poisonTestSet,
  type TestPoisonSummary,
} from './poison/poisonDataset.js';
export { type PoisonMode, selectPoisonRows } from './poison/selectPoisonRows.js';
export { mulberry32, type Rng, randomInt, sampleWithoutReplacement, shuffleInPlace } from './util/random.js';
