import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Binary,
  type Data,
  Field,
  Int32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeParquet } from '../../src/io/writeParquet.js';
import { runCli } from './runCli.js';

let dir: string;

/** 6 rows of 2x2x1 images, labels 0,1,2,0,1,2, class names in metadata. */
function smallTable(labels: number[] = [0, 1, 2, 0, 1, 2]): Table {
  const n = labels.length;
  const pixels = Uint8Array.from({ length: n * 4 }, (_, i) => (i * 7) % 256);
  const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * 4);
  const image = makeData({
    type: new Binary(),
    length: n,
    nullCount: 0,
    valueOffsets: offsets,
    data: pixels,
  });
  const id = vectorFromArray(
    labels.map((_, i) => `row-${i}`),
    new Utf8(),
  ).data[0];
  const label = vectorFromArray(labels, new Int32()).data[0];
  const fields = [
    new Field('id', new Utf8(), false),
    new Field('image', new Binary(), false),
    new Field('label', new Int32(), true),
  ];
  const metadata = new Map([
    ['abl_audit.image_shape', '2,2,1'],
    ['abl_audit.class_names', JSON.stringify(['zero', 'one', 'two'])],
  ]);
  const schema = new Schema(fields, metadata);
  const data = makeData({
    type: new Struct(fields),
    length: n,
    nullCount: 0,
    children: [id as Data, image, label as Data],
  });
  return new Table([new RecordBatch(schema, data)]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'abl-cli-inspect-'));
  await writeParquet(join(dir, 'small.parquet'), smallTable());
  await writeParquet(join(dir, 'badlabel.parquet'), smallTable([0, 1, 5, 0, 1, 2]));
  await writeFile(join(dir, 'notes.parquet'), 'this is not parquet at all\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('abl-audit inspect', () => {
  it('prints rows, schema roles, shape and the label histogram', async () => {
    const run = await runCli('inspect', join(dir, 'small.parquet'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/rows\s+6 in 1 file/);
    expect(run.stdout).toMatch(/column 'image', raw-bytes, 2x2x1/);
    expect(run.stdout).toMatch(/label\s+Int32\s+<- label/);
    expect(run.stdout).toMatch(/0 zero\s+2/);
    expect(run.stdout).toMatch(/2 two\s+2/);
    expect(run.stdout).toContain('id=row-0');
  });

  it('prints the same summary as JSON with --json', async () => {
    const run = await runCli('inspect', join(dir, 'small.parquet'), '--json');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      rows: number;
      labelCounts: number[];
      image: { shape: unknown };
      idColumn: string;
    };
    expect(summary.rows).toBe(6);
    expect(summary.labelCounts).toEqual([2, 2, 2]);
    expect(summary.image.shape).toEqual({ height: 2, width: 2, channels: 1 });
    expect(summary.idColumn).toBe('id');
  });

  it('exits 1 naming the file, column and row for an out-of-range label', async () => {
    const run = await runCli('inspect', join(dir, 'badlabel.parquet'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('badlabel.parquet');
    expect(run.stderr).toContain("column 'label'");
    expect(run.stderr).toContain('row 2');
    expect(run.stderr).toMatch(/label 5 is out of range/);
  });

  it('exits 1 with a clear message for a missing file and for a file that is not Parquet', async () => {
    const missing = await runCli('inspect', join(dir, 'nope.parquet'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.parquet: no such file or folder/);
    const notParquet = await runCli('inspect', join(dir, 'notes.parquet'));
    expect(notParquet.code).toBe(1);
    expect(notParquet.stderr).toMatch(/notes\.parquet: not a Parquet or Arrow IPC file/);
  });

  it('exits 2 for usage errors: unknown flag, bad --rows, bad --image-shape, missing argument', async () => {
    const file = join(dir, 'small.parquet');
    for (const argv of [
      ['inspect', file, '--bogus'],
      ['inspect', file, '--rows', '-3'],
      ['inspect', file, '--image-shape', '28by28'],
      ['inspect'],
    ]) {
      const run = await runCli(...argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr.length, argv.join(' ')).toBeGreaterThan(0);
    }
  });

  it('honours --label-col and reports a missing column with the list of columns', async () => {
    const run = await runCli('inspect', join(dir, 'small.parquet'), '--label-col', 'target');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no column 'target'");
    expect(run.stderr).toContain('columns are: id: Utf8, image: Binary, label: Int32');
  });
});
