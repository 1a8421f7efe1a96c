import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { listDataFiles } from '../../../src/io/listDataFiles.js';
import { sniffFormat } from '../../../src/io/sniffFormat.js';
import { encodeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, int32s } from '../../helpers/arrow.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('list-');

const tiny = batchOf({ label: int32s([1, 2]) });
const PARQUET = encodeParquet([tiny]);
const ARROW_FILE = tableToIPC(new Table([tiny]), 'file');
const ARROW_STREAM = tableToIPC(new Table([tiny]), 'stream');

async function put(root: string, rel: string, bytes: Uint8Array | string): Promise<void> {
  const path = join(root, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, bytes);
}

describe('sniffFormat', () => {
  it('tells formats from bytes, not names', async () => {
    const dir = await tmp.sub('sniff');
    await put(dir, 'really-arrow.parquet', ARROW_FILE);
    await put(dir, 'really-parquet.arrow', PARQUET);
    await put(dir, 'stream.bin', ARROW_STREAM);
    await put(dir, 'text.parquet', 'id,label\n1,2\n');
    await put(dir, 'tiny.parquet', 'PAR1');
    expect(await sniffFormat(join(dir, 'really-arrow.parquet'))).toBe('arrow-file');
    expect(await sniffFormat(join(dir, 'really-parquet.arrow'))).toBe('parquet');
    expect(await sniffFormat(join(dir, 'stream.bin'))).toBe('arrow-stream');
    expect(await sniffFormat(join(dir, 'text.parquet'))).toBeNull();
    expect(await sniffFormat(join(dir, 'tiny.parquet'))).toBeNull();
  });

  it('reports a Parquet file cut short (no footer magic) as corrupt, naming it', async () => {
    const dir = await tmp.sub('cut');
    const path = join(dir, 'cut.parquet');
    await put(dir, 'cut.parquet', PARQUET.subarray(0, PARQUET.length - 5));
    const err = await rejection(sniffFormat(path));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
  });
});

describe('listDataFiles', () => {
  let root: string;

  beforeAll(async () => {
    root = await tmp.sub('dataset');
    await put(root, 'split=train/part-1.parquet', PARQUET);
    await put(root, 'split=train/part-0.parquet', PARQUET);
    await put(root, 'split=test/part-0.arrow', ARROW_FILE);
    await put(root, 'split=test/sub/part-0.arrows', ARROW_STREAM);
    await put(root, 'extra.feather', ARROW_FILE);
    await put(root, 'name=a%20b/x.pq', PARQUET);
    // Everything below must be ignored.
    await put(root, '_SUCCESS', '');
    await put(root, '_metadata', PARQUET);
    await put(root, '.hidden.parquet', PARQUET);
    await put(root, 'split=train/.part-2.parquet.tmp-123-abcd', 'PAR1 partial');
    await put(root, 'split=train/part-3.parquet.tmp-9', PARQUET);
    await put(root, '.cache/part-0.parquet', PARQUET);
    await put(root, '_temporary/0/part-0.parquet', PARQUET);
    await put(root, 'README.md', '# not data');
    await put(root, 'labels.csv', 'a,b');
  });

  it('finds data files in hive folders, sorted by relative path, skipping hidden, _ and .tmp- names', async () => {
    const files = await listDataFiles(root);
    expect(files.map((f) => f.relPath)).toEqual([
      'extra.feather',
      'name=a%20b/x.pq',
      'split=test/part-0.arrow',
      'split=test/sub/part-0.arrows',
      'split=train/part-0.parquet',
      'split=train/part-1.parquet',
    ]);
  });

  it('records absolute paths, formats and decoded partition values', async () => {
    const files = await listDataFiles(root);
    for (const f of files) expect(relative(root, f.path)).toBe(f.relPath);
    expect(files.map((f) => [f.format, f.partition])).toEqual([
      ['arrow-file', {}],
      ['parquet', { name: 'a b' }],
      ['arrow-file', { split: 'test' }],
      ['arrow-stream', { split: 'test' }],
      ['parquet', { split: 'train' }],
      ['parquet', { split: 'train' }],
    ]);
  });

  it('takes a single file as a dataset of one, named by its file name', async () => {
    const path = join(root, 'split=train', 'part-0.parquet');
    const files = await listDataFiles(path);
    expect(files).toEqual([{ path, relPath: 'part-0.parquet', format: 'parquet', partition: {} }]);
  });

  it('gives the same relative paths wherever the folder is', async () => {
    const copy = await tmp.sub('moved');
    await put(copy, 'deeper/split=train/part-0.parquet', PARQUET);
    const files = await listDataFiles(join(copy, 'deeper'));
    expect(files.map((f) => f.relPath)).toEqual(['split=train/part-0.parquet']);
  });

  it('fails with FileNotFound naming a missing path', async () => {
    const path = join(root, 'nope.parquet');
    const err = await rejection(listDataFiles(path));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.FileNotFound);
    expect(err.message).toContain(path);
  });

  it('fails with EmptyDataset naming a folder without data files', async () => {
    const dir = await tmp.sub('empty');
    await put(dir, '_SUCCESS', '');
    await put(dir, 'notes.txt', 'hi');
    const err = await rejection(listDataFiles(dir));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.EmptyDataset);
    expect(err.message).toContain(dir);
  });

  it('fails with NotADataFile naming a text file called .parquet', async () => {
    const dir = await tmp.sub('text');
    await put(dir, 'a.parquet', PARQUET);
    await put(dir, 'b.parquet', 'this is a CSV file, really\n1,2,3\n');
    const err = await rejection(listDataFiles(dir));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.NotADataFile);
    expect(err.message).toContain(join(dir, 'b.parquet'));
  });
});

describe('listDataFiles, odd folder names', () => {
  it('keeps a partition value with a stray % as written instead of failing', async () => {
    const root = await tmp.sub('percent');
    const folder = join(root, 'rate=5%');
    await mkdir(folder, { recursive: true });
    // Parquet magic at both ends is enough for listing: the bytes are sniffed, not decoded.
    await writeFile(join(folder, 'part.parquet'), Buffer.from('PAR1xxxxPAR1'));
    const files = await listDataFiles(root);
    expect(files.map((f) => f.partition)).toEqual([{ rate: '5%' }]);
  });
});
