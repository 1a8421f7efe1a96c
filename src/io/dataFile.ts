/** File formats the data plane reads. */
export type DataFormat = 'parquet' | 'arrow-file' | 'arrow-stream';

/** One physical file of a dataset, with where it sits in the dataset. */
export interface DataFile {
  /** Absolute path. */
  readonly path: string;
  /**
   * Path relative to the dataset root, with `/` separators (the file name itself when the dataset is one
   * file). Row ids derived from position use this, so they do not depend on where the dataset is mounted.
   */
  readonly relPath: string;
  readonly format: DataFormat;
  /** Hive-style partition values from `key=value/` folders between the root and the file. */
  readonly partition: Readonly<Record<string, string>>;
}
