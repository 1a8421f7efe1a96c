import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  makePoisonedFixtures,
  POISONED_FIXTURE_DIR,
  type PoisonedFixtures,
} from '../../../fixtures/make-poisoned-fixtures.js';
import { POISON_METADATA_KEY } from '../../../src/poison/columns.js';
import { duckRows, sqlString } from '../../helpers/duckdb.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { readTable, rowsWhere, withGrid } from './helpers.js';

const tmp = useTempDir('abl-poison-fixture-');

let fresh: PoisonedFixtures;
let freshDir: string;

beforeAll(async () => {
  freshDir = await tmp.sub('fixture');
  fresh = await makePoisonedFixtures(freshDir);
});

/**
 * A file's content: every column's values and the schema metadata in key order. Compared instead of the
 * bytes because the Parquet writer keeps key-value metadata in a hash map whose order may change from
 * one write to the next inside a process (the script, run as its own process, does reproduce the bytes).
 */
async function content(path: string) {
  const { table } = await readTable(path);
  const columns: Record<string, unknown[]> = {};
  for (const f of table.schema.fields) {
    columns[f.name] = Array.from(table.getChild(f.name) as Iterable<unknown>, (v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    );
  }
  return { columns, metadata: [...table.schema.metadata.entries()].sort() };
}

describe('fixtures/fashion-mnist-badnets (the committed poisoned demo data)', () => {
  it.each(['train.parquet', 'test-backdoor.parquet'])(
    '%s is what fixtures/make-poisoned-fixtures.ts makes from the clean fixture',
    async (name) => {
      expect(await content(join(POISONED_FIXTURE_DIR, name))).toEqual(await content(join(freshDir, name)));
    },
  );

  it('has the counts fixtures/README.md states: 270 of 2,700 eligible rows poisoned, 450 test rows', async () => {
    expect(fresh.train).toMatchObject({
      attack: 'badnets',
      mode: 'all-to-one',
      target: 0,
      rate: 0.1,
      rateOf: 'eligible',
      seed: 1,
      rows: 3000,
      eligible: 2700,
      poisoned: 270,
      poisonedShare: 0.09,
      poisonedPerClass: [0, 26, 38, 24, 30, 27, 41, 22, 28, 34],
    });
    expect(fresh.test).toMatchObject({ rows: 500, triggered: 450, target: 0 });

    const train = sqlString(join(POISONED_FIXTURE_DIR, 'train.parquet'));
    const [counts] = await duckRows(
      `SELECT count(*)::INT, sum(poisoned::INT)::INT, sum((poisoned AND label <> 0)::INT)::INT,
              count(attack)::INT FROM read_parquet(${train})`,
    );
    expect(counts).toEqual([3000, 270, 0, 270]);
    const [test] = await duckRows(
      `SELECT count(*)::INT, sum((label = 0)::INT)::INT, sum((label_original = 0)::INT)::INT
         FROM read_parquet(${sqlString(join(POISONED_FIXTURE_DIR, 'test-backdoor.parquet'))})`,
    );
    expect(test).toEqual([450, 450, 0]);
    const meta = await duckRows(
      `SELECT decode(value) FROM parquet_kv_metadata(${train}) WHERE decode(key) = '${POISON_METADATA_KEY}'`,
    );
    const recorded = JSON.parse(String(meta[0]?.[0]));
    expect(recorded).toMatchObject({ attack: 'badnets', poisoned: 270, seed: 1 });
    // Made before rateOf existed: its record has no rateOf, which means a share of the eligible rows.
    expect(Object.keys(recorded)).not.toContain('rateOf');
  });

  it('has the 3x3 grid in the bottom-right corner of every poisoned image', async () => {
    const out = await readTable(join(POISONED_FIXTURE_DIR, 'train.parquet'));
    const poisoned = rowsWhere(out.column<boolean>('poisoned'), (p) => p);
    const shape = { height: 28, width: 28, channels: 1 };
    // Pasting the grid over a poisoned image must change nothing: it is already there.
    const missing = poisoned.filter((i) => {
      const image = out.images[i] as Uint8Array;
      return !Buffer.from(withGrid(image, shape)).equals(image);
    });
    expect(poisoned).toHaveLength(270);
    expect(missing).toEqual([]);
  });
});
