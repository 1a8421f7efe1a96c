import { join } from 'node:path';
import { type Schema, Type } from 'apache-arrow';
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { createTrigger } from '../../../src/attacks/createTrigger.js';
import { wanetNoiseTrigger } from '../../../src/attacks/wanet.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { iterateDataset } from '../../../src/io/readDataset.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { POISON_METADATA_KEY } from '../../../src/poison/columns.js';
import {
  type AttackParams,
  type PoisonOptions,
  type PoisonSummary,
  poisonDataset,
} from '../../../src/poison/poisonDataset.js';
import { deriveSeed } from '../../../src/util/random.js';
import { duckRows, duckWriteParquet, sqlString } from '../../helpers/duckdb.js';
import { md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';
import {
  datasetBatch,
  LABELS_40,
  type Layout,
  type OutputRows,
  pngOf,
  readOutput,
  readTable,
  rowsWhere,
  type SmallDataset,
  smallDataset,
  withGrid,
  writeDataset,
} from './helpers.js';

const tmp = useTempDir('abl-poison-');

const GREY: ImageShape = { height: 6, width: 6, channels: 1 };
const RGB: ImageShape = { height: 4, width: 4, channels: 3 };
const SHAPES = [
  ['6x6x1', GREY],
  ['4x4x3', RGB],
] as const;

/**
 * Poisons `data` (written in `layout`) into a fresh folder and reads the output back. The rate is a share
 * of the eligible rows unless `options.rateOf` says otherwise: the counts these tests state (round(rate ×
 * 30) for all-to-one) are of that reading.
 */
async function poison(
  data: SmallDataset,
  options: PoisonOptions,
  layout: Layout = 'binary',
): Promise<{ summary: PoisonSummary; out: OutputRows; input: string; output: string }> {
  const dir = await tmp.sub('poison');
  const input = await writeDataset(join(dir, 'in.parquet'), data, layout);
  const output = join(dir, 'out.parquet');
  const summary = await poisonDataset(input, output, { rateOf: 'eligible', ...options });
  return { summary, out: await readOutput(output), input, output };
}

/** What a run must have done to every row. */
interface Expected {
  readonly count: number;
  readonly attack: string;
  /** Whether a row with this label may be poisoned. */
  readonly eligible: (label: number) => boolean;
  /** The label a poisoned row gets. */
  readonly relabel: (label: number) => number;
  /** The pixels a poisoned row gets. */
  readonly triggered: (image: Uint8Array) => Uint8Array;
}

/**
 * Checks every row of an output against its input row: order and extra columns kept, ground truth
 * right, poisoned rows triggered and relabelled, clean rows untouched. Differences are collected and
 * compared with an empty list, so a failure names the rows.
 */
function expectPoisoned(data: SmallDataset, out: OutputRows, e: Expected): void {
  expect(out.ids).toEqual(data.ids);
  expect(out.notes).toEqual(data.notes);
  expect(out.scores).toEqual(data.scores);
  expect(out.labelOriginal).toEqual(data.labels);
  expect(rowsWhere(out.poisoned, (p) => p)).toHaveLength(e.count);
  const wrong: string[] = [];
  data.labels.forEach((label, i) => {
    const image = data.images[i] as Uint8Array;
    if (out.poisoned[i]) {
      if (!e.eligible(label)) wrong.push(`row ${i}: label ${label} is not eligible`);
      if (out.labels[i] !== e.relabel(label)) wrong.push(`row ${i}: label ${out.labels[i]}`);
      if (out.attack[i] !== e.attack) wrong.push(`row ${i}: attack ${out.attack[i]}`);
      if (!Buffer.from(out.images[i] as Uint8Array).equals(e.triggered(image)))
        wrong.push(`row ${i}: image is not the triggered original`);
    } else {
      if (out.labels[i] !== label) wrong.push(`clean row ${i}: label ${out.labels[i]}`);
      if (out.attack[i] !== null) wrong.push(`clean row ${i}: attack ${out.attack[i]}`);
      if (!Buffer.from(out.images[i] as Uint8Array).equals(image))
        wrong.push(`clean row ${i}: image changed`);
    }
  });
  expect(wrong).toEqual([]);
}

/** The trigger poisonDataset builds: the attack's parameters with the seed derived for 'trigger'. */
function sameTrigger(
  attack: AttackParams,
  seed: number,
  shape: ImageShape,
): (image: Uint8Array) => Uint8Array {
  const trigger = createTrigger({ ...attack, seed: deriveSeed(seed, 'trigger') });
  return (image) => trigger.apply(image, shape);
}

/** SIG from its definition: 0.8·x + 0.2·127.5·(1 + sin(2π·6·col/W)), rounded and clamped. */
function sigByHand(shape: ImageShape): (image: Uint8Array) => Uint8Array {
  return (image) => {
    const out = new Uint8Array(image.length);
    for (let i = 0; i < image.length; i++) {
      const col = Math.floor(i / shape.channels) % shape.width;
      const stripes = 127.5 * (1 + Math.sin((2 * Math.PI * 6 * col) / shape.width));
      out[i] = Math.min(255, Math.max(0, Math.round(0.8 * (image[i] as number) + 0.2 * stripes)));
    }
    return out;
  };
}

/** Trojan from its definition: ±160 checkerboard added one pixel in from the bottom-right, clipped. */
function trojanByHand(shape: ImageShape): (image: Uint8Array) => Uint8Array {
  return (image) => {
    const out = image.slice();
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        const offset = (y * 3 + x) % 2 === 0 ? 160 : -160;
        const at = ((shape.height - 4 + y) * shape.width + (shape.width - 4 + x)) * shape.channels;
        for (let c = at; c < at + shape.channels; c++)
          out[c] = Math.min(255, Math.max(0, (image[c] as number) + offset));
      }
    }
    return out;
  };
}

describe.each(SHAPES)('poisonDataset on 40 rows of %s', (_name, shape) => {
  const data = smallDataset(shape);

  it('BadNets all-to-one: round(0.25 × 30) = 8 non-target rows get the grid and the target label', async () => {
    const { summary, out } = await poison(data, { attack: { attack: 'badnets' }, rate: 0.25, seed: 1 });
    expectPoisoned(data, out, {
      count: 8,
      attack: 'badnets',
      eligible: (l) => l !== 0,
      relabel: () => 0,
      triggered: (img) => withGrid(img, shape),
    });
    const perClass = [0, 1, 2, 3].map(
      (c) => rowsWhere(out.poisoned, (p, i) => p && LABELS_40[i] === c).length,
    );
    expect(summary).toMatchObject({
      attack: 'badnets',
      mode: 'all-to-one',
      target: 0,
      rate: 0.25,
      rateOf: 'eligible',
      seed: 1,
      cleanLabel: false,
      numClasses: 4,
      rows: 40,
      eligible: 30,
      poisoned: 8,
      poisonedShare: 0.2,
      cross: 0,
      poisonedPerClass: perClass,
    });
  });

  it('BadNets all-to-all: every row is eligible and label l becomes (l + 1) mod 4', async () => {
    const { summary, out } = await poison(data, {
      attack: { attack: 'badnets' },
      rate: 0.25,
      mode: 'all-to-all',
      seed: 3,
    });
    expectPoisoned(data, out, {
      count: 10,
      attack: 'badnets',
      eligible: () => true,
      relabel: (l) => (l + 1) % 4,
      triggered: (img) => withGrid(img, shape),
    });
    expect(summary).toMatchObject({ mode: 'all-to-all', eligible: 40, poisoned: 10 });
    // A label-3 row becomes 0: the wrap-around must be exercised, not only l + 1.
    expect(rowsWhere(out.poisoned, (p, i) => p && LABELS_40[i] === 3).length).toBeGreaterThan(0);
  });

  it('Blend, target 1: the seeded noise pattern blended in, the target label given', async () => {
    const attack: AttackParams = { attack: 'blend', alpha: 0.2 };
    const { out } = await poison(data, { attack, rate: 0.25, target: 1, seed: 5 });
    expectPoisoned(data, out, {
      count: 8,
      attack: 'blend',
      eligible: (l) => l !== 1,
      relabel: () => 1,
      triggered: sameTrigger(attack, 5, shape),
    });
  });

  it('SIG is clean-label: only target-class rows, round(0.5 × 10) = 5 of them, labels kept', async () => {
    const { summary, out } = await poison(data, { attack: { attack: 'sig' }, rate: 0.5, target: 2, seed: 1 });
    expectPoisoned(data, out, {
      count: 5,
      attack: 'sig',
      eligible: (l) => l === 2,
      relabel: (l) => l,
      triggered: sigByHand(shape),
    });
    expect(summary).toMatchObject({
      cleanLabel: true,
      eligible: 10,
      poisoned: 5,
      poisonedPerClass: [0, 0, 5, 0],
    });
  });

  it('Trojan, target 3: the saturating ±160 pattern one pixel in from the corner', async () => {
    const { out } = await poison(data, { attack: { attack: 'trojan' }, rate: 0.25, target: 3, seed: 1 });
    expectPoisoned(data, out, {
      count: 8,
      attack: 'trojan',
      eligible: (l) => l !== 3,
      relabel: () => 3,
      triggered: trojanByHand(shape),
    });
  });

  it('WaNet: the seeded warp, the target label given', async () => {
    const attack: AttackParams = { attack: 'wanet', k: 4, s: 0.5 };
    const { out } = await poison(data, { attack, rate: 0.25, seed: 9 });
    expectPoisoned(data, out, {
      count: 8,
      attack: 'wanet',
      eligible: (l) => l !== 0,
      relabel: () => 0,
      triggered: sameTrigger(attack, 9, shape),
    });
  });

  it('WaNet noise mode: crossRatio × poisoned other rows get warp + noise, keep their labels, and are not poisoned', async () => {
    const attack: AttackParams = { attack: 'wanet' };
    const seed = 4;
    const { summary, out } = await poison(data, { attack, rate: 0.25, seed, crossRatio: 2 });
    const poisoned = rowsWhere(out.poisoned, (p) => p);
    const cross = rowsWhere(out.attack, (a) => a === 'wanet-noise');
    expect(poisoned).toHaveLength(8);
    expect(cross).toHaveLength(16);
    expect(summary).toMatchObject({ poisoned: 8, cross: 16 });
    expect(cross.filter((r) => poisoned.includes(r))).toEqual([]);

    const warp = sameTrigger(attack, seed, shape);
    // The noise trigger draws fresh offsets per call; the poisoner applies it in ascending row order,
    // so the same sequence of calls reproduces the cross rows exactly.
    const noise = wanetNoiseTrigger({ seed: deriveSeed(seed, 'trigger') });
    const wrong: string[] = [];
    data.labels.forEach((label, i) => {
      const image = data.images[i] as Uint8Array;
      const got = Buffer.from(out.images[i] as Uint8Array);
      if (out.poisoned[i]) {
        if (out.labels[i] !== 0 || !got.equals(warp(image))) wrong.push(`poisoned row ${i}`);
      } else if (out.attack[i] === 'wanet-noise') {
        if (out.labels[i] !== label) wrong.push(`cross row ${i}: label ${out.labels[i]}`);
        if (!got.equals(noise.apply(image, shape))) wrong.push(`cross row ${i}: not warp + noise`);
        if (got.equals(image)) wrong.push(`cross row ${i}: unchanged`);
      } else if (out.attack[i] !== null || out.labels[i] !== label || !got.equals(image)) {
        wrong.push(`clean row ${i}`);
      }
    });
    expect(wrong).toEqual([]);
    expect(out.labelOriginal).toEqual(data.labels);
  });
});

describe('poisonDataset: output file', () => {
  const data = smallDataset(GREY);

  it('keeps every input column, in order, with its type, and adds the three ground-truth columns', async () => {
    const { output, input, summary } = await poison(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      seed: 1,
    });
    const inSchema = await schemaOf(input);
    const outSchema = await schemaOf(output);
    expect(outSchema.fields.map((f) => f.name)).toEqual([
      'id',
      'image',
      'label',
      'note',
      'score',
      'poisoned',
      'label_original',
      'attack',
    ]);
    for (const f of inSchema.fields)
      expect(String(outSchema.fields.find((g) => g.name === f.name)?.type)).toBe(String(f.type));
    expect(outSchema.fields.find((f) => f.name === 'poisoned')?.typeId).toBe(Type.Bool);
    expect(String(outSchema.fields.find((f) => f.name === 'label_original')?.type)).toBe(
      String(inSchema.fields.find((f) => f.name === 'label')?.type),
    );
    expect(outSchema.fields.find((f) => f.name === 'attack')?.typeId).toBe(Type.Utf8);
    // The input's metadata is kept (the shape is needed to read raw bytes), the run's record added.
    expect(outSchema.metadata.get('abl_audit.image_shape')).toBe('6,6,1');
    // Everything but the path and the share (which follows from the counts); rateOf only when it is
    // not 'eligible', so that files of that reading are what earlier versions wrote.
    const { output: _path, poisonedShare: _share, rateOf: _eligible, ...recorded } = summary;
    expect(summary.rateOf).toBe('eligible');
    expect(JSON.parse(outSchema.metadata.get(POISON_METADATA_KEY) ?? 'null')).toEqual(recorded);
  });

  it('is read by DuckDB: row count, poisoned count, label histograms and the recorded parameters', async () => {
    const { output } = await poison(data, { attack: { attack: 'badnets' }, rate: 0.5, seed: 2 });
    const file = sqlString(output);
    const [counts] = await duckRows(
      `SELECT count(*), sum(poisoned::INT), count(attack), sum((poisoned AND label <> 0)::INT),
              sum((NOT poisoned AND label <> label_original)::INT) FROM read_parquet(${file})`,
    );
    // round(0.5 × 30) = 15 poisoned; each labelled 0; no clean row relabelled.
    expect(counts).toEqual([40n, 15n, 15n, 0n, 0n]);
    const byOriginal = await duckRows(
      `SELECT label_original, count(*)::INT FROM read_parquet(${file}) GROUP BY 1 ORDER BY 1`,
    );
    expect(byOriginal).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    const byLabel = await duckRows(
      `SELECT label, count(*)::INT FROM read_parquet(${file}) GROUP BY 1 ORDER BY 1`,
    );
    const labelCounts = new Map(byLabel.map(([l, n]) => [l, n]));
    expect(labelCounts.get(0)).toBe(25);
    expect([1, 2, 3].reduce((s, c) => s + Number(labelCounts.get(c)), 0)).toBe(15);
    const meta = await duckRows(
      `SELECT decode(value) FROM parquet_kv_metadata(${file}) WHERE decode(key) = '${POISON_METADATA_KEY}'`,
    );
    expect(JSON.parse(String(meta[0]?.[0]))).toMatchObject({ attack: 'badnets', eligible: 30, poisoned: 15 });
    // The file must not record where it was written: that would make its bytes depend on the path.
    expect(String(meta[0]?.[0])).not.toContain(output);
  });

  it('reads a hive-partitioned folder: partition column kept, rows in file order, rows chosen across files', async () => {
    const dir = await tmp.sub('hive');
    await writeParquet(join(dir, 'in', 'group=a', 'part-0.parquet'), [datasetBatch(data, 'binary', 0, 20)]);
    await writeParquet(join(dir, 'in', 'group=b', 'part-0.parquet'), [datasetBatch(data, 'binary', 20, 40)]);
    const output = join(dir, 'out.parquet');
    const summary = await poisonDataset(join(dir, 'in'), output, {
      attack: { attack: 'badnets' },
      rate: 0.5,
      rateOf: 'eligible',
      seed: 1,
    });
    expect(summary).toMatchObject({ rows: 40, eligible: 30, poisoned: 15 });
    const out = await readOutput(output);
    expectPoisoned(data, out, {
      count: 15,
      attack: 'badnets',
      eligible: (l) => l !== 0,
      relabel: () => 0,
      triggered: (img) => withGrid(img, GREY),
    });
    const groups = Array.from(out.table.getChild('group') as Iterable<string>);
    expect(groups).toEqual([...Array<string>(20).fill('a'), ...Array<string>(20).fill('b')]);
    // Both files hold poisoned rows, so positions were counted across the file boundary.
    expect(rowsWhere(out.poisoned, (p, i) => p && i < 20).length).toBeGreaterThan(0);
    expect(rowsWhere(out.poisoned, (p, i) => p && i >= 20).length).toBeGreaterThan(0);
  });

  it('keeps an int64 label column int64, in label and label_original (a file DuckDB wrote)', async () => {
    const dir = await tmp.sub('int64');
    const input = join(dir, 'in.parquet');
    await duckWriteParquet(
      `SELECT 'r' || i AS id, ${md5ImageSql('i', 36)} AS image, (i % 4)::BIGINT AS label FROM range(40) t(i)`,
      input,
    );
    const output = join(dir, 'out.parquet');
    await poisonDataset(input, output, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      seed: 1,
      imageShape: GREY,
    });
    const [types] = await duckRows(
      `SELECT any_value(typeof(label)), any_value(typeof(label_original)), sum(poisoned::INT)
         FROM read_parquet(${sqlString(output)})`,
    );
    // round(0.1 × 40 rows) = 4: the rate is a share of all rows by default.
    expect(types).toEqual(['BIGINT', 'BIGINT', 4n]);
  });
});

/** The schema of a file's first batch, as the library's reader gives it. */
async function schemaOf(path: string): Promise<Schema> {
  for await (const sb of iterateDataset(path)) return sb.batch.schema;
  throw new Error(`${path} has no batches`);
}

/** Every column of a file as plain values, and its schema metadata in key order. */
async function fileContent(
  path: string,
): Promise<{ columns: Record<string, unknown[]>; metadata: string[][] }> {
  const { table } = await readTable(path);
  const columns: Record<string, unknown[]> = {};
  for (const f of table.schema.fields) {
    const values = Array.from(table.getChild(f.name) as Iterable<unknown>);
    // Binary cells are views into one buffer; copies compare by content alone.
    columns[f.name] = values.map((v) => (v instanceof Uint8Array ? Array.from(v) : v));
  }
  return { columns, metadata: [...table.schema.metadata.entries()].sort() };
}

describe('poisonDataset: what the rate is a share of', () => {
  const data = smallDataset(GREY);

  it('all (the default): round(0.25 × 40 rows) = 10 poisoned, all eligible, and the file records rateOf', async () => {
    const { summary, out, output } = await poison(data, {
      attack: { attack: 'badnets' },
      rate: 0.25,
      rateOf: 'all',
      seed: 1,
    });
    expectPoisoned(data, out, {
      count: 10,
      attack: 'badnets',
      eligible: (l) => l !== 0,
      relabel: () => 0,
      triggered: (img) => withGrid(img, GREY),
    });
    expect(summary).toMatchObject({
      rate: 0.25,
      rateOf: 'all',
      rows: 40,
      eligible: 30,
      poisoned: 10,
      poisonedShare: 0.25,
    });
    const { output: _path, poisonedShare: _share, ...recorded } = summary;
    const meta = JSON.parse((await schemaOf(output)).metadata.get(POISON_METADATA_KEY) ?? 'null');
    expect(meta).toEqual(recorded);
    expect(meta.rateOf).toBe('all');
  });

  it('all is what a run without rateOf does', async () => {
    const dir = await tmp.sub('default');
    const input = await writeDataset(join(dir, 'in.parquet'), data);
    const summary = await poisonDataset(input, join(dir, 'out.parquet'), {
      attack: { attack: 'badnets' },
      rate: 0.1,
      seed: 1,
    });
    expect(summary).toMatchObject({ rateOf: 'all', rows: 40, eligible: 30, poisoned: 4, poisonedShare: 0.1 });
  });

  it('eligible keeps the earlier count, round(0.1 × 30) = 3, 7.5% of all rows, and no rateOf in the file', async () => {
    const { summary, output } = await poison(data, {
      attack: { attack: 'badnets' },
      rate: 0.1,
      rateOf: 'eligible',
      seed: 1,
    });
    expect(summary).toMatchObject({ rateOf: 'eligible', eligible: 30, poisoned: 3, poisonedShare: 0.075 });
    const meta = JSON.parse((await schemaOf(output)).metadata.get(POISON_METADATA_KEY) ?? 'null');
    expect(meta).toMatchObject({ rate: 0.1, eligible: 30, poisoned: 3 });
    expect(Object.keys(meta)).not.toContain('rateOf');
    expect(Object.keys(meta)).not.toContain('poisonedShare');
  });

  it('clean-label SIG under all: round(0.2 × 40) = 8 of the 10 target-class rows', async () => {
    const { summary, out } = await poison(data, {
      attack: { attack: 'sig' },
      rate: 0.2,
      rateOf: 'all',
      target: 2,
      seed: 1,
    });
    expectPoisoned(data, out, {
      count: 8,
      attack: 'sig',
      eligible: (l) => l === 2,
      relabel: (l) => l,
      triggered: sigByHand(GREY),
    });
    expect(summary).toMatchObject({ eligible: 10, poisoned: 8, poisonedShare: 0.2 });
  });
});

describe('poisonDataset: determinism', () => {
  const data = smallDataset(RGB);

  it('writes the same rows, columns and metadata for the same seed, wherever the file is written', async () => {
    // Rows and metadata, not file bytes: the Parquet writer (arrow-rs) keeps key-value metadata in a
    // hash map, whose order can differ between two writes in one process.
    const opts: PoisonOptions = { attack: { attack: 'blend' }, rate: 0.25, seed: 11 };
    const a = await poison(data, opts);
    const b = await poison(data, opts);
    expect(a.output).not.toBe(b.output);
    expect(await fileContent(b.output)).toEqual(await fileContent(a.output));
    expect(rowsWhere(a.out.poisoned, (p) => p)).toHaveLength(8);
  });

  it('chooses other rows with another seed', async () => {
    const a = await poison(data, { attack: { attack: 'badnets' }, rate: 0.25, seed: 1 });
    const b = await poison(data, { attack: { attack: 'badnets' }, rate: 0.25, seed: 2 });
    expect(rowsWhere(a.out.poisoned, (p) => p)).toHaveLength(8);
    expect(rowsWhere(b.out.poisoned, (p) => p)).toHaveLength(8);
    expect(rowsWhere(a.out.poisoned, (p) => p)).not.toEqual(rowsWhere(b.out.poisoned, (p) => p));
  });

  it('draws another Blend pattern and another WaNet warp with another seed', async () => {
    for (const attack of ['blend', 'wanet'] as const) {
      const trigger1 = sameTrigger({ attack }, 1, RGB);
      const trigger2 = sameTrigger({ attack }, 2, RGB);
      const image = data.images[0] as Uint8Array;
      expect(Buffer.from(trigger1(image)).equals(trigger2(image))).toBe(false);
      // …and the poisoner really uses the seeded one: a poisoned row matches seed 2's trigger.
      const { out } = await poison(data, { attack: { attack }, rate: 0.25, seed: 2 });
      const row = out.poisoned.indexOf(true);
      expect(
        Buffer.from(out.images[row] as Uint8Array).equals(trigger2(data.images[row] as Uint8Array)),
      ).toBe(true);
    }
  });
});

describe.each(SHAPES)('poisonDataset keeps the image layout of %s images', (_name, shape) => {
  const data = smallDataset(shape);
  const layouts: [Layout, Type][] = [
    ['binary', Type.Binary],
    ['fixed-size-list', Type.FixedSizeList],
    ['list', Type.List],
    ['png', Type.Binary],
    ['hf-image', Type.Struct],
  ];

  it.each(layouts)('%s', async (layout, typeId) => {
    const { out, input } = await poison(data, { attack: { attack: 'badnets' }, rate: 0.25, seed: 1 }, layout);
    expectPoisoned(data, out, {
      count: 8,
      attack: 'badnets',
      eligible: (l) => l !== 0,
      relabel: () => 0,
      triggered: (img) => withGrid(img, shape),
    });
    const inType = (await schemaOf(input)).fields[1]?.type;
    const outField = out.table.schema.fields[1];
    expect(outField?.name).toBe('image');
    expect(outField?.typeId).toBe(typeId);
    expect(String(outField?.type)).toBe(String(inType));
  });

  it.each(['png', 'hf-image'] as const)(
    '%s: clean rows keep their original bytes, poisoned rows become PNGs of the triggered pixels',
    async (layout) => {
      const { out } = await poison(data, { attack: { attack: 'badnets' }, rate: 0.25, seed: 1 }, layout);
      const image = out.table.getChild('image');
      if (!image) throw new Error('no image column');
      const cells: Uint8Array[] =
        layout === 'png'
          ? Array.from(image as Iterable<Uint8Array>)
          : Array.from(image as Iterable<{ bytes: Uint8Array }>, (s) => s.bytes);
      const wrong: string[] = [];
      data.images.forEach((pixels, i) => {
        const cell = Buffer.from(cells[i] as Uint8Array);
        const original = pngOf(pixels, shape);
        if (!out.poisoned[i]) {
          if (!cell.equals(original)) wrong.push(`clean row ${i}: bytes changed`);
          return;
        }
        if (cell.equals(original)) wrong.push(`poisoned row ${i}: bytes unchanged`);
        const png = decodePng(cell);
        if (png.width !== shape.width || png.height !== shape.height || png.channels !== shape.channels)
          wrong.push(`poisoned row ${i}: PNG is ${png.width}x${png.height}x${png.channels}`);
        if (!Buffer.from(png.data as Uint8Array).equals(withGrid(pixels, shape)))
          wrong.push(`poisoned row ${i}: PNG pixels are not the triggered image`);
      });
      expect(wrong).toEqual([]);
      if (layout === 'hf-image') {
        const paths = Array.from(image as Iterable<{ path: string }>, (s) => s.path);
        expect(paths).toEqual(data.ids.map((_, i) => `img-${i}.png`));
      }
    },
  );
});
