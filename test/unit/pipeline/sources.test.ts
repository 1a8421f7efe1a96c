import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../../src/config/auditConfig.js';
import { DataError, ErrorCode } from '../../../src/errors.js';
import { iterateDataset } from '../../../src/io/readDataset.js';
import { type AuditResult, runAudit } from '../../../src/pipeline/runAudit.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../../helpers/tinyPoisonedSet.js';

const tmp = useTempDir('sources-');

// Five deliveries as hive partitions (source=vendor_N/), 200 tiny rows each; only vendor_3 is poisoned.
let config: AuditConfig;
let result: AuditResult;
let poisonedRows = 0;

beforeAll(async () => {
  const data = join(tmp.path, 'deliveries');
  for (let v = 0; v < 5; v++) {
    const folder = join(data, `source=vendor_${v}`);
    await mkdir(folder, { recursive: true });
    const poisoned = await writeTinyPoisonedSet(join(folder, 'part-0.parquet'), {
      rows: 200,
      classes: 5,
      side: 8,
      poisonRate: v === 3 ? 0.3 : 0,
      target: 0,
      seed: 10 + v,
      idPrefix: `v${v}-`,
    });
    poisonedRows += poisoned.size;
  }
  config = {
    ...AUDIT_DEFAULTS,
    train: data,
    out: join(tmp.path, 'out'),
    batchSize: 32,
    backend: 'wasm',
    threads: 1,
    unlearning: { ...AUDIT_DEFAULTS.unlearning, epochs: 1 },
    gates: { ...AUDIT_DEFAULTS.gates, failIfSourceQuarantineAbove: 0.05 },
  };
  result = await runAudit(config);
}, 600_000);

describe('per-source lineage', () => {
  it('rolls the quarantine up by the hive partition source=…, the poisoned delivery first and named', () => {
    const { report } = result;
    expect(poisonedRows).toBeGreaterThan(30);
    expect(report.summary.verdict).toBe('poison-found');
    const sources = report.sources;
    // No source column given: the hive partition source=… names each file's rows.
    expect(sources?.column).toBeNull();
    expect(sources?.entries.map((e) => e.source)[0]).toBe('vendor_3');
    expect(sources?.entries).toHaveLength(5);
    expect(sources?.entries.reduce((s, e) => s + e.rows, 0)).toBe(1000);
    expect(sources?.standout).toBe('vendor_3');
    expect(report.summary.standoutSource).toBe('vendor_3');
    expect(sources?.entries[0]?.lift).toBeGreaterThan(2);
  });

  it('fails fail_if_source_quarantine_above naming the delivery', () => {
    const gate = result.report.gates.find((g) => g.name === 'fail_if_source_quarantine_above');
    expect(gate?.passed).toBe(false);
    expect(gate?.message).toMatch(/^fail_if_source_quarantine_above: source vendor_3 \d+\.\d+%/);
    expect(result.report.status).toBe('gate-failed');
  });

  it('writes the same rollup as OUT/sources.parquet, one row per source', async () => {
    const rows: { source: string; quarantined: number; lift: number; standout: boolean }[] = [];
    for await (const { batch } of iterateDataset(join(config.out, 'sources.parquet'))) {
      for (let i = 0; i < batch.numRows; i++) {
        rows.push({
          source: String(batch.getChild('source')?.get(i)),
          quarantined: Number(batch.getChild('quarantined')?.get(i)),
          lift: Number(batch.getChild('lift')?.get(i)),
          standout: batch.getChild('standout')?.get(i) === true,
        });
      }
    }
    expect(rows).toEqual(
      result.report.sources?.entries.map((e) => ({
        source: e.source,
        quarantined: e.quarantined,
        lift: e.lift,
        standout: e.source === 'vendor_3',
      })),
    );
  });

  it('takes --source-col from the training data only: a test set without the column is fine', async () => {
    const test = join(tmp.path, 'test.parquet');
    await writeTinyPoisonedSet(test, { rows: 100, classes: 5, side: 8, poisonRate: 0, target: 0, seed: 99 });
    const out = join(tmp.path, 'with-test');
    const { report } = await runAudit({
      ...config,
      out,
      test,
      columns: { ...config.columns, sourceCol: 'source' },
      unlearning: { ...config.unlearning, epochs: 1 },
    });
    expect(report.sources?.column).toBe('source');
    expect(report.sources?.entries[0]?.source).toBe('vendor_3');
    expect(report.metrics.cleanedModel.cleanAccuracy?.rows).toBe(100);
  });

  it('refuses a --source-col the data lacks, naming it, before writing anything', async () => {
    const out = join(tmp.path, 'no-such-col');
    const err = await rejection(
      runAudit({ ...config, out, columns: { ...config.columns, sourceCol: 'vendor' } }),
    );
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(ErrorCode.SchemaMismatch);
    expect(err.message).toMatch(/no column 'vendor' \(asked for as the source column\)/);
    expect(existsSync(out)).toBe(false);
  });
});
