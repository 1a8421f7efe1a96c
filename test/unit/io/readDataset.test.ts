import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { listDataFiles } from '../../../src/io/listDataFiles.js';
import { iterateDataset, readDataset } from '../../../src/io/readDataset.js';
import { batchOf, binaries, int32s, readExamples, rowsOf, strings } from '../../helpers/arrow.js';
import { duckWriteParquet } from '../../helpers/duckdb.js';
import { rejection } from '../../helpers/errors.js';
import { firstDifferentRow, md5Image, md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('read-dataset-');

const IMAGE = 16; // 4×4×1

/** Rows `from`..`to-1` as an arrow-js table in batches of `perBatch`: id, label = id % 10, image. */
function arrowRows(from: number, to: number, perBatch: number): Table {
  const batches = [];
  for (let start = from; start < to; start += perBatch) {
    const ids = Array.from({ length: Math.min(perBatch, to - start) }, (_, k) => start + k);
    batches.push(
      batchOf({
        id: int32s(ids),
        label: int32s(ids.map((i) => i % 10)),
        image: binaries(ids.map((i) => md5Image(i, IMAGE))),
      }),
    );
  }
  return new Table(batches);
}

async function writeDuck(path: string, from: number, to: number): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await duckWriteParquet(
    `SELECT i::INTEGER AS id, (i % 10)::INTEGER AS label, ${md5ImageSql('i', IMAGE)} AS image FROM range(${from}, ${to}) t(i)`,
    path,
  );
}

describe('readDataset on Arrow IPC', () => {
  let fileFormat: string;
  let streamFormat: string;

  beforeAll(async () => {
    fileFormat = join(tmp.path, 'rows.arrow');
    streamFormat = join(tmp.path, 'rows.arrows');
    await writeFile(fileFormat, tableToIPC(arrowRows(0, 25, 10), 'file'));
    await writeFile(streamFormat, tableToIPC(arrowRows(0, 25, 10), 'stream'));
  });

  it.each([
    ['file format (.arrow)', () => fileFormat, 'arrow-file'],
    ['stream format (.arrows)', () => streamFormat, 'arrow-stream'],
  ])('reads the %s batch by batch', async (_name, path, format) => {
    const batches = await lastValueFrom(readDataset(path()).pipe(toArray()));
    expect(batches.map((b) => b.batch.numRows)).toEqual([10, 10, 5]);
    expect(batches.map((b) => b.rowOffset)).toEqual([0, 10, 20]);
    expect(batches[0]?.file.format).toBe(format);
    const rows = rowsOf(await readExamples(path()));
    expect(rows.ids).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(rows.labels).toEqual(Array.from({ length: 25 }, (_, i) => i % 10));
    expect(firstDifferentRow(rows.images, (i) => md5Image(i, IMAGE))).toBe(-1);
  });

  it('names the file when an Arrow file is truncated', async () => {
    const path = join(tmp.path, 'cut.arrow');
    const bytes = await readFile(fileFormat);
    // Keep the leading magic so the file is taken as Arrow, then lose the footer.
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await rejection(lastValueFrom(readDataset(path).pipe(toArray())));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
  });

  it('names the file when an Arrow stream holds garbage after its first message', async () => {
    const path = join(tmp.path, 'garbage.arrows');
    const bytes = Buffer.from(await readFile(streamFormat));
    bytes.fill(0xab, 200);
    await writeFile(path, bytes);
    const err = await rejection(lastValueFrom(readDataset(path).pipe(toArray())));
    expect(err.code).toBe(ErrorCode.CorruptFile);
    expect(err.message).toContain(path);
  });
});

describe('readDataset on a folder', () => {
  let mixed: string;

  beforeAll(async () => {
    mixed = await tmp.sub('mixed');
    // Sorted order: a-duck.parquet, b-file.arrow, c-stream.arrows.
    await writeDuck(join(mixed, 'a-duck.parquet'), 0, 10);
    await writeFile(join(mixed, 'b-file.arrow'), tableToIPC(arrowRows(10, 20, 4), 'file'));
    await writeFile(join(mixed, 'c-stream.arrows'), tableToIPC(arrowRows(20, 30, 7), 'stream'));
    await writeFile(join(mixed, '_SUCCESS'), '');
  });

  it('reads Parquet and Arrow files together, in sorted order', async () => {
    const batches = await lastValueFrom(readDataset(mixed).pipe(toArray()));
    expect(batches.map((b) => [b.file.relPath, b.batch.numRows])).toEqual([
      ['a-duck.parquet', 10],
      ['b-file.arrow', 4],
      ['b-file.arrow', 4],
      ['b-file.arrow', 2],
      ['c-stream.arrows', 7],
      ['c-stream.arrows', 3],
    ]);
    const rows = rowsOf(await readExamples(mixed));
    expect(rows.ids).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(firstDifferentRow(rows.images, (i) => md5Image(i, IMAGE))).toBe(-1);
  });

  it('adds hive partition values as string columns', async () => {
    const root = await tmp.sub('hive');
    await writeDuck(join(root, 'split=train', 'part-0.parquet'), 0, 6);
    await mkdir(join(root, 'split=test'));
    await writeFile(join(root, 'split=test', 'part-0.arrows'), tableToIPC(arrowRows(6, 9, 2), 'stream'));
    const batches = await lastValueFrom(readDataset(root).pipe(toArray()));
    // split=test sorts before split=train.
    const seen = batches.flatMap((b) => {
      const split = b.batch.getChild('split');
      const id = b.batch.getChild('id');
      return Array.from({ length: b.batch.numRows }, (_, r) => [Number(id?.get(r)), split?.get(r)]);
    });
    expect(seen).toEqual([
      [6, 'test'],
      [7, 'test'],
      [8, 'test'],
      [0, 'train'],
      [1, 'train'],
      [2, 'train'],
      [3, 'train'],
      [4, 'train'],
      [5, 'train'],
    ]);
    // The original columns are all still there, before the partition column.
    expect(batches[0]?.batch.schema.fields.map((f) => f.name)).toEqual(['id', 'label', 'image', 'split']);
  });

  it("keeps a file's own column over a partition value of the same name", async () => {
    const root = await tmp.sub('hive-clash');
    const table = new Table([
      batchOf({
        split: strings(['own', 'own']),
        label: int32s([0, 1]),
        image: binaries([md5Image(0, IMAGE), md5Image(1, IMAGE)]),
      }),
    ]);
    await mkdir(join(root, 'split=folder'), { recursive: true });
    await writeFile(join(root, 'split=folder', 'x.arrows'), tableToIPC(table, 'stream'));
    const [first] = await lastValueFrom(readDataset(root).pipe(toArray()));
    expect(first?.batch.schema.fields.map((f) => f.name)).toEqual(['split', 'label', 'image']);
    expect(first?.batch.getChild('split')?.get(0)).toBe('own');
  });

  it('accepts a list of files already resolved', async () => {
    const files = await listDataFiles(mixed);
    const batches = await lastValueFrom(readDataset(files.slice(1, 2)).pipe(toArray()));
    expect(batches.map((b) => b.file.relPath)).toEqual(['b-file.arrow', 'b-file.arrow', 'b-file.arrow']);
  });

  it('iterates the same batches pull-based', async () => {
    const counts: number[] = [];
    for await (const sb of iterateDataset(mixed)) counts.push(sb.batch.numRows);
    expect(counts).toEqual([10, 4, 4, 2, 7, 3]);
  });
});

describe('readDataset as an Observable', () => {
  let path: string;

  beforeAll(async () => {
    path = join(tmp.path, 'observable.parquet');
    await writeDuck(path, 0, 5);
  });

  it('is cold: nothing is read until subscription, and errors arrive on the error channel', async () => {
    const missing = join(tmp.path, 'missing.parquet');
    // Building the Observable must not throw or touch the disk.
    const source$ = readDataset(missing);
    const err = await new Promise<unknown>((resolve, reject) => {
      source$.subscribe({
        next: () => reject(new Error('unexpected value')),
        error: resolve,
        complete: () => reject(new Error('completed')),
      });
    });
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).code).toBe(ErrorCode.FileNotFound);
    expect((err as IoError).message).toContain(missing);
  });

  it('reads the files again on each subscription, giving the same values', async () => {
    const examples$ = readDataset(path).pipe(decodeExamples());
    // Per-subscription state: the second epoch must not see the first epoch's ids as duplicates.
    const first = rowsOf(await lastValueFrom(examples$.pipe(toArray())));
    const second = rowsOf(await lastValueFrom(examples$.pipe(toArray())));
    expect(second).toEqual(first);
    expect(first.ids).toEqual(['0', '1', '2', '3', '4']);
  });

  it('errors with EmptyDataset for a folder without data files', async () => {
    const dir = await tmp.sub('no-data');
    await writeFile(join(dir, 'README'), 'nothing here');
    const err = await rejection(lastValueFrom(readDataset(dir)));
    expect(err.code).toBe(ErrorCode.EmptyDataset);
    expect(err.message).toContain(dir);
  });

  it('gives the first batch to firstValueFrom and stops', async () => {
    const first = await firstValueFrom(readDataset(path));
    expect(first.batch.numRows).toBe(5);
  });
});
