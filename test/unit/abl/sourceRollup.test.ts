import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rollupSources } from '../../../src/abl/sourceRollup.js';
import { createSourceCounter, MISSING_SOURCE } from '../../../src/abl/writeSources.js';
import type { DataFile } from '../../../src/io/dataFile.js';

const counts = (source: string, rows: number, quarantined: number, review = 0) => ({
  source,
  rows,
  quarantined,
  review,
});

describe('rollupSources', () => {
  it('puts the source holding the quarantine first, with its shares and lift, and names it', () => {
    const { entries, standout } = rollupSources([
      counts('a', 2000, 1),
      counts('b', 2000, 0),
      counts('poisoned', 2000, 190, 6),
      counts('c', 2000, 2),
      counts('d', 2000, 0),
    ]);
    expect(entries.map((e) => e.source)).toEqual(['poisoned', 'c', 'a', 'b', 'd']);
    expect(entries[0]).toMatchObject({
      dataShare: 0.2,
      quarantineShare: 190 / 193,
      quarantineRate: 0.095,
      review: 6,
    });
    expect(entries[0]?.lift).toBeCloseTo(190 / 193 / 0.2, 12);
    expect(standout).toBe('poisoned');
  });

  it('names no source when the quarantine is spread as the data is', () => {
    const { standout, entries } = rollupSources([counts('a', 500, 50), counts('b', 500, 48)]);
    expect(standout).toBeNull();
    expect(entries[0]?.source).toBe('a');
  });

  it('names no source with one source, or too few quarantined rows to tell', () => {
    expect(rollupSources([counts('only', 1000, 100)]).standout).toBeNull();
    expect(rollupSources([counts('a', 900, 0), counts('b', 100, 4)]).standout).toBeNull();
    expect(rollupSources([counts('a', 900, 0), counts('b', 100, 5)]).standout).toBe('b');
  });

  it('gives zero shares and lifts when nothing was quarantined, sorted by name', () => {
    const { entries, standout } = rollupSources([counts('z', 10, 0), counts('m', 30, 0)]);
    expect(entries.map((e) => [e.source, e.quarantineShare, e.lift])).toEqual([
      ['m', 0, 0],
      ['z', 0, 0],
    ]);
    expect(standout).toBeNull();
  });
});

describe('createSourceCounter', () => {
  const calls = Uint8Array.from([2, 0, 1, 2, 0, 0]);
  const file = (relPath: string, partition: Record<string, string> = {}): DataFile => ({
    path: `/data/${relPath}`,
    relPath,
    format: 'parquet',
    partition,
  });

  it('counts by the source column, a missing value as its own source', () => {
    const counter = createSourceCounter('vendor', calls);
    const batch = tableFromArrays({ vendor: ['x', 'y', 'x', null, 'y', 'x'] }).batches[0];
    if (!batch) throw new Error('no batch');
    counter.add(batch, file('part-0.parquet'), [0, 1, 2, 3, 4, 5]);
    expect(counter.counts()).toEqual([
      { source: 'x', rows: 3, quarantined: 1, review: 1 },
      { source: 'y', rows: 2, quarantined: 0, review: 0 },
      { source: MISSING_SOURCE, rows: 1, quarantined: 1, review: 0 },
    ]);
  });

  it('without a source column: the hive partition source=…, else the file, never a `source` column in the data', () => {
    const counter = createSourceCounter(null, calls);
    // Imports write a `source` column (a dataset name, or each image's path): it is not a delivery.
    const batch = tableFromArrays({ source: ['fashion-mnist', 'fashion-mnist', 'fashion-mnist'] }).batches[0];
    if (!batch) throw new Error('no batch');
    counter.add(batch, file('source=vendor_a/part-0.parquet', { source: 'vendor_a' }), [0, 1, 2]);
    counter.add(batch, file('b.parquet'), [3, 4, 5]);
    expect(counter.counts()).toEqual([
      { source: 'vendor_a', rows: 3, quarantined: 1, review: 1 },
      { source: 'b.parquet', rows: 3, quarantined: 1, review: 0 },
    ]);
  });
});
