/**
 * `npm run bench:lineage`: does the audit name the source that sent the poison? Five deliveries of
 * 2,000 Fashion-MNIST rows each, as hive partitions (`deliveries/vendor=vendor_K/part-0.parquet`,
 * audited with `--source-col vendor`: the imported rows carry a `source` column of their own, which
 * would win over a `source=` folder); every poisoned row (BadNets 3×3 grid, 5% of all rows, target 0)
 * is in vendor_3, the others are clean. The audit runs with its defaults and no test sets. Writes bench/results/lineage.json: the
 * verdict, the source table (rows, quarantined, share of the quarantine, lift), the named source, the
 * quarantine's precision and recall, and the audit's time.
 *
 * Needs the bench's clean subset (data/bench/clean-10000/train.parquet, made by `npm run bench:abl`
 * with ABL_BENCH_ATTACKS=clean, or any run of it). Environment: ABL_BENCH_DIR (default data/bench).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { AUDIT_DEFAULTS } from '../../src/config/auditConfig.js';
import { openParquetWriter } from '../../src/io/openParquetWriter.js';
import { iterateDataset } from '../../src/io/readDataset.js';
import { runAudit } from '../../src/pipeline/runAudit.js';
import { poisonDataset } from '../../src/poison/poisonDataset.js';

const dir = process.env.ABL_BENCH_DIR ?? 'data/bench';
const VENDORS = 5;
const POISONED_VENDOR = 3;
const PER_VENDOR = 2000;

/** Splits the poisoned set into the deliveries: every poisoned row into vendor_3, clean rows to fill. */
async function writeDeliveries(poisoned: string, out: string): Promise<void> {
  const writers = Array.from({ length: VENDORS }, (_, v) => {
    const folder = join(out, `vendor=vendor_${v}`);
    return { folder, writer: null as ReturnType<typeof openParquetWriter> | null, rows: 0 };
  });
  let next = 0;
  for await (const { batch } of iterateDataset(poisoned)) {
    const truth = batch.getChild('poisoned');
    const owner = Array.from({ length: batch.numRows }, (_, i) => {
      const take = (v: number) => {
        const w = writers[v];
        if (w) w.rows++;
        return v;
      };
      if (truth?.get(i) === true) return take(POISONED_VENDOR);
      // Clean rows go round the other vendors, then fill vendor_3 up to its share.
      for (let tries = 0; tries < VENDORS; tries++) {
        const v = next++ % VENDORS;
        if (v !== POISONED_VENDOR && (writers[v]?.rows ?? 0) < PER_VENDOR) return take(v);
      }
      return take(POISONED_VENDOR);
    });
    for (const [v, w] of writers.entries()) await writeRuns(batch, owner, v, w);
  }
  for (const w of writers) await w.writer?.close();
}

async function writeRuns(
  batch: RecordBatch,
  owner: readonly number[],
  v: number,
  w: { folder: string; writer: ReturnType<typeof openParquetWriter> | null },
): Promise<void> {
  let i = 0;
  while (i < owner.length) {
    if (owner[i] !== v) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < owner.length && owner[end] === v) end++;
    if (!w.writer) {
      await mkdir(w.folder, { recursive: true });
      w.writer = openParquetWriter(join(w.folder, 'part-0.parquet'), batch.schema);
    }
    await w.writer.write(batch.slice(i, end));
    i = end;
  }
}

async function main(): Promise<void> {
  const clean = join(dir, 'clean-10000', 'train.parquet');
  if (!existsSync(clean))
    throw new Error(`${clean} is missing: run ABL_BENCH_ATTACKS=clean npm run bench:abl first`);
  const base = join(dir, 'lineage-badnets-5');
  const poisoned = join(base, 'poisoned.parquet');
  const deliveries = join(base, 'deliveries-by-vendor-2000');
  if (!existsSync(poisoned)) {
    await poisonDataset(clean, poisoned, {
      attack: { attack: 'badnets', patch: 'grid' },
      rate: 0.05,
      rateOf: 'all',
      target: 0,
      seed: 1,
    });
  }
  if (!existsSync(deliveries)) await writeDeliveries(poisoned, deliveries);
  const started = performance.now();
  const { report } = await runAudit(
    {
      ...AUDIT_DEFAULTS,
      train: deliveries,
      out: join(base, 'audit'),
      force: true,
      columns: { sourceCol: 'vendor' },
    },
    { log: (l) => console.error(`  ${l}`) },
  );
  const seconds = (performance.now() - started) / 1000;
  const gt = report.isolation.groundTruth;
  const result = {
    benchmark: 'lineage',
    command: 'npm run bench:lineage',
    setup: `${VENDORS} hive partitions of ${PER_VENDOR} Fashion-MNIST rows; all poison (BadNets 3×3 grid, 5% of all rows, target 0) in vendor_${POISONED_VENDOR}`,
    verdict: report.summary.verdict,
    flaggedClasses: report.summary.flaggedClasses,
    standoutSource: report.summary.standoutSource,
    sources: report.sources,
    quarantine: {
      rows: report.summary.quarantined,
      review: report.summary.review,
      poisoned: gt?.poisoned ?? null,
      precision: gt?.precision ?? null,
      recall: gt?.recall ?? null,
    },
    seconds,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadAverage1m: loadavg()[0],
      node: process.versions.node,
      date: new Date().toISOString(),
    },
  };
  await writeFile('bench/results/lineage.json', `${JSON.stringify(result, null, 2)}\n`);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  console.log(
    [
      `verdict ${result.verdict}, named source: ${result.standoutSource ?? 'none'}, ${seconds.toFixed(0)} s`,
      '| Source | Rows | Quarantined | Share of quarantine | Lift |',
      '|---|---|---|---|---|',
      ...(report.sources?.entries ?? []).map(
        (e) =>
          `| ${e.source} | ${e.rows} | ${e.quarantined} | ${pct(e.quarantineShare)} | ${e.lift.toFixed(2)}× |`,
      ),
    ].join('\n'),
  );
}

await main();
