import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { encode as encodePng } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarizeDataset } from '../../src/data/summarizeDataset.js';
import { AblError, ErrorCode } from '../../src/errors.js';
import { binaryData, column, int32Data, recordBatchOf, utf8Data } from '../../src/io/arrowColumns.js';
import { iterateDataset } from '../../src/io/readDataset.js';
import { writeParquet } from '../../src/io/writeParquet.js';
import { mulberry32, type Rng } from '../../src/util/random.js';
import { useTempDir } from '../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../helpers/tinyPoisonedSet.js';

// A seeded fuzzer over the data plane: valid Parquet and Arrow files with their bytes mutated (bit
// flips, truncations, length fields overwritten, windows zeroed or repeated), and valid files whose
// PNG cells are mutated (flipped, truncated, declaring huge sizes). Every outcome must be a success or
// an AblError with its code: never an internal error, a hang, or memory beyond a bound.
// ABL_FUZZ_CASES sets the number of cases (default 300).
const CASES = Number(process.env.ABL_FUZZ_CASES ?? 300);
/** A case that takes this long has hung: reading these small files takes milliseconds. */
const HANG_MS = 60_000;
const MEMORY_BOUND = 1024 * 2 ** 20;
const tmp = useTempDir('fuzz-');
const bases: { name: string; bytes: Uint8Array; ext: string }[] = [];
let pngRows: { ids: string[]; cells: Uint8Array[]; labels: Int32Array };

function pngCell(rng: Rng): Uint8Array {
  const data = Uint8Array.from({ length: 64 }, () => Math.floor(rng() * 256));
  return encodePng({ width: 8, height: 8, data, channels: 1, depth: 8 });
}

async function writePngSet(path: string, cells: readonly Uint8Array[]): Promise<void> {
  const offsets = new Int32Array(cells.length + 1);
  cells.forEach((c, i) => {
    offsets[i + 1] = (offsets[i] as number) + c.length;
  });
  const data = new Uint8Array(offsets[cells.length] as number);
  cells.forEach((c, i) => {
    data.set(c, offsets[i] as number);
  });
  await writeParquet(path, [
    recordBatchOf([
      column('id', utf8Data(pngRows.ids)),
      column('image', binaryData(offsets, data)),
      column('label', int32Data(pngRows.labels)),
    ]),
  ]);
}

beforeAll(async () => {
  const raw = join(tmp.path, 'raw.parquet');
  await writeTinyPoisonedSet(raw, { rows: 40, classes: 4, side: 8, poisonRate: 0.1, target: 0, seed: 1 });
  bases.push({ name: 'raw parquet', bytes: await readFile(raw), ext: 'parquet' });
  const rng = mulberry32(2);
  pngRows = {
    ids: Array.from({ length: 24 }, (_, i) => `p${i}`),
    cells: Array.from({ length: 24 }, () => pngCell(rng)),
    labels: Int32Array.from({ length: 24 }, (_, i) => i % 3),
  };
  const png = join(tmp.path, 'png.parquet');
  await writePngSet(png, pngRows.cells);
  bases.push({ name: 'png parquet', bytes: await readFile(png), ext: 'parquet' });
  const batches: RecordBatch[] = [];
  for await (const sb of iterateDataset(raw)) batches.push(sb.batch);
  bases.push({ name: 'arrow file', bytes: tableToIPC(new Table(batches), 'file'), ext: 'arrow' });
  bases.push({ name: 'arrow stream', bytes: tableToIPC(new Table(batches), 'stream'), ext: 'arrows' });
});

/** One mutation of a file's bytes, chosen and placed by the seeded generator. */
function mutateBytes(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; what: string } {
  const out = bytes.slice();
  const at = Math.floor(rng() * out.length);
  switch (Math.floor(rng() * 5)) {
    case 0: {
      const flips = 1 + Math.floor(rng() * 8);
      for (let i = 0; i < flips; i++) {
        const p = Math.floor(rng() * out.length);
        out[p] = (out[p] as number) ^ (1 << Math.floor(rng() * 8));
      }
      return { bytes: out, what: `${flips} bit flips` };
    }
    case 1:
      return { bytes: out.subarray(0, at), what: `truncated at ${at}` };
    case 2: {
      const value = [0xffffffff, 0x7fffffff, 0, 1 << 30, Math.floor(rng() * 2 ** 32)][
        Math.floor(rng() * 5)
      ] as number;
      new DataView(out.buffer).setUint32(Math.min(at, out.length - 4), value >>> 0, rng() < 0.5);
      return { bytes: out, what: `u32 ${value} at ${at}` };
    }
    case 3:
      out.fill(0, at, Math.min(out.length, at + 1 + Math.floor(rng() * 64)));
      return { bytes: out, what: `zeroed at ${at}` };
    default: {
      const len = Math.min(1 + Math.floor(rng() * 256), out.length - at);
      const spliced = new Uint8Array(out.length + len);
      spliced.set(out.subarray(0, at + len));
      spliced.set(out.subarray(at), at + len);
      return { bytes: spliced, what: `repeated ${len} at ${at}` };
    }
  }
}

/** One mutation of a PNG cell: damaged, truncated, replaced, or declaring another (huge) size. */
function mutateCell(cell: Uint8Array, rng: Rng): { cell: Uint8Array; what: string } {
  const out = cell.slice();
  const view = new DataView(out.buffer);
  switch (Math.floor(rng() * 5)) {
    case 0: {
      const p = 8 + Math.floor(rng() * (out.length - 8));
      out[p] = (out[p] as number) ^ (1 << Math.floor(rng() * 8));
      return { cell: out, what: 'flipped bit' };
    }
    case 1:
      return { cell: out.subarray(0, Math.floor(rng() * out.length)), what: 'truncated' };
    case 2: {
      const side = [20000, 65535, 4096, 2049, 0][Math.floor(rng() * 5)] as number;
      view.setUint32(16, side);
      view.setUint32(20, side);
      return { cell: out, what: `declares ${side}×${side}` };
    }
    case 3:
      return {
        cell: Uint8Array.from({ length: Math.floor(rng() * 100) }, () => Math.floor(rng() * 256)),
        what: 'random bytes',
      };
    default:
      return { cell: new Uint8Array(0), what: 'empty' };
  }
}

/** Reads and decodes a file to the end, as `abl-audit inspect` does; resolves to the error, if any. */
async function readAll(path: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    await Promise.race([summarizeDataset(path), hang]);
    return null;
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
}

describe(`fuzzing the data plane (${CASES} cases)`, () => {
  it('ends every case in success or a coded AblError, within a memory bound', async () => {
    const rng = mulberry32(20261207);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const outcomes = new Map<string, number>();
    try {
      for (let i = 0; i < CASES; i++) {
        let path: string;
        let what: string;
        if (rng() < 0.6) {
          const base = bases[Math.floor(rng() * bases.length)] as (typeof bases)[number];
          const m = mutateBytes(base.bytes, rng);
          path = join(tmp.path, `case.${base.ext}`);
          await writeFile(path, m.bytes);
          what = `${base.name}: ${m.what}`;
        } else {
          const cells = [...pngRows.cells];
          const row = Math.floor(rng() * cells.length);
          const m = mutateCell(cells[row] as Uint8Array, rng);
          cells[row] = m.cell;
          path = join(tmp.path, 'case-cells.parquet');
          await writePngSet(path, cells);
          what = `png cell ${row}: ${m.what}`;
        }
        const error = await readAll(path);
        if (error !== null) {
          expect(error, `case ${i} (${what}): ${String(error)}`).toBeInstanceOf(AblError);
          expect((error as AblError).code, `case ${i} (${what})`).not.toBe(ErrorCode.Internal);
        }
        const key = error === null ? 'ok' : (error as AblError).code;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(peak - baseline, 'memory above the bound').toBeLessThan(MEMORY_BOUND);
    // The fuzzer reaches both outcomes (a fuzzer that only ever fails reading would test little).
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].length).toBeGreaterThan(2);
  }, 1_800_000);
});
