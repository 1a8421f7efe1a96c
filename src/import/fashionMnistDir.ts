/**
 * Where the Debian package `dataset-fashion-mnist` installs the four gzip IDX files.
 *
 * <span class="informal">Its own module, free of the Parquet writer, so that `abl-audit import
 * fashion-mnist --help` can show it without loading the import code.</span>
 */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
