import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeExamples } from '../../../src/data/decodeExamples.js';
import type { DataFile } from '../../../src/io/dataFile.js';
import { readDataset } from '../../../src/io/readDataset.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, binaries, int32s } from '../../helpers/arrow.js';
import { md5Image } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

// Wrap the two file readers to count the batches pulled from them and the generators closed: what
// "stops reading" means, observed from outside.
const probe = vi.hoisted(() => ({ pulled: 0, closed: 0 }));

vi.mock(import('../../../src/io/readParquetBatches.js'), async (importOriginal) => {
  const real = await importOriginal();
  return {
    readParquetBatches: async function* (path: string, shown?: string) {
      try {
        for await (const batch of real.readParquetBatches(path, shown)) {
          probe.pulled++;
          yield batch;
        }
      } finally {
        probe.closed++;
      }
    },
  };
});

vi.mock(import('../../../src/io/readArrowBatches.js'), async (importOriginal) => {
  const real = await importOriginal();
  return {
    readArrowBatches: async function* (path: string, shown?: string) {
      try {
        for await (const batch of real.readArrowBatches(path, shown)) {
          probe.pulled++;
          yield batch;
        }
      } finally {
        probe.closed++;
      }
    },
  };
});

const tmp = useTempDir('unsubscribe-');

function table(rows: number): Table {
  const ids = Array.from({ length: rows }, (_, i) => i);
  return new Table([
    batchOf({ label: int32s(ids.map((i) => i % 10)), image: binaries(ids.map((i) => md5Image(i, 16))) }),
  ]);
}

describe('readDataset early unsubscribe', () => {
  let parquet: string;
  let arrow: string;

  beforeAll(async () => {
    parquet = join(tmp.path, 'four-groups.parquet');
    await writeParquet(parquet, table(40), { rowGroupSize: 10 });
    arrow = join(tmp.path, 'batches.arrows');
    // Re-batch to 4 batches of 10 rows.
    const [whole] = table(40).batches;
    if (!whole) throw new Error('table has no batch');
    await writeFile(
      arrow,
      tableToIPC(new Table([0, 10, 20, 30].map((s) => whole.slice(s, s + 10))), 'stream'),
    );
  });

  beforeEach(() => {
    probe.pulled = 0;
    probe.closed = 0;
  });

  it('take(1) pulls one row group, completes without error and closes the Parquet reader', async () => {
    const values = await lastValueFrom(readDataset(parquet).pipe(take(1), toArray()));
    expect(values.map((v) => v.batch.numRows)).toEqual([10]);
    await vi.waitFor(() => expect(probe.closed).toBe(1));
    expect(probe.pulled).toBe(1);
  });

  it('take(1) closes the Arrow reader too', async () => {
    const values = await lastValueFrom(readDataset(arrow).pipe(take(1), toArray()));
    expect(values).toHaveLength(1);
    await vi.waitFor(() => expect(probe.closed).toBe(1));
    expect(probe.pulled).toBe(1);
  });

  it('does not open later files after unsubscribing', async () => {
    // The second "file" does not exist: reading on would fail (after unsubscribe, silently).
    const files: DataFile[] = [
      { path: parquet, relPath: 'a.parquet', format: 'parquet', partition: {} },
      { path: join(tmp.path, 'missing.parquet'), relPath: 'b.parquet', format: 'parquet', partition: {} },
    ];
    const values = await lastValueFrom(readDataset(files).pipe(take(2), toArray()));
    expect(values).toHaveLength(2);
    await vi.waitFor(() => expect(probe.closed).toBe(1));
    expect(probe.pulled).toBe(2);
  });

  it('take(1) after decodeExamples stops the reading as well', async () => {
    const examples = await lastValueFrom(readDataset(parquet).pipe(decodeExamples(), take(1), toArray()));
    expect(examples.map((e) => e.ids.length)).toEqual([10]);
    await vi.waitFor(() => expect(probe.closed).toBe(1));
    expect(probe.pulled).toBe(1);
  });

  it('reads everything when nobody unsubscribes', async () => {
    const values = await lastValueFrom(readDataset(parquet).pipe(toArray()));
    expect(values).toHaveLength(4);
    expect(probe.pulled).toBe(4);
    expect(probe.closed).toBe(1);
  });
});
