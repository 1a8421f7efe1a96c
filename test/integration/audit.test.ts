import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORK_DIR } from '../../src/pipeline/auditCheckpoint.js';
import { REPORT_SCHEMA } from '../../src/report/auditReport.js';
import { runCli } from '../cli/runCli.js';
import { duckRows, sqlString } from '../helpers/duckdb.js';
import { predictWithPlainTfjs } from '../helpers/plainTfjs.js';
import { useTempDir } from '../helpers/tempDir.js';

// The whole audit on the BadNets fixture (3,000 rows, 270 poisoned), with few epochs so that CI stays
// fast: outputs, thread counts and resume after a kill. Determinism, refused resumes and pipeline
// gates are tested on tiny data (test/unit/pipeline/runAudit.test.ts, test/cli/runPipeline.test.ts).
const TRAIN = resolve('fixtures/fashion-mnist-badnets/train.parquet');
const TEST = resolve('fixtures/fashion-mnist/test.parquet');
const BACKDOOR = resolve('fixtures/fashion-mnist-badnets/test-backdoor.parquet');
const BIN = resolve('bin/abl-audit.js');
const ARGS = [
  '--isolation-epochs',
  '2',
  '--unlearn-epochs',
  '1',
  '--seed',
  '7',
  '--backend',
  'wasm',
  '--quiet',
];

const tmp = useTempDir('audit-');
let first: string;
let firstRun: Awaited<ReturnType<typeof runCli>>;

const q = (sql: string) => duckRows(sql);
const parts = (out: string, part: string) => sqlString(join(out, part, '*.parquet'));

async function quarantineIds(out: string): Promise<string[]> {
  return (await q(`SELECT id FROM read_parquet(${parts(out, 'quarantine')}) ORDER BY id`)).map((r) =>
    String(r[0]),
  );
}

/** Rows of a partition, and how many of them the fixture's ground truth marks as poisoned. */
async function partitionCounts(
  out: string,
  part: string,
): Promise<{ rows: number; poisoned: number; labels: number[] }> {
  const files = await readdir(join(out, part));
  if (files.length === 0) return { rows: 0, poisoned: 0, labels: [] };
  const [[rows, poisoned]] = (await q(
    `SELECT count(*), count(*) FILTER (WHERE poisoned) FROM read_parquet(${parts(out, part)})`,
  )) as [[bigint, bigint]];
  const labels = (await q(`SELECT DISTINCT label FROM read_parquet(${parts(out, part)}) ORDER BY label`)).map(
    (r) => Number(r[0]),
  );
  return { rows: Number(rows), poisoned: Number(poisoned), labels };
}

beforeAll(async () => {
  first = join(tmp.path, 'first');
  firstRun = await runCli(
    'audit',
    TRAIN,
    '--out',
    first,
    '--test',
    TEST,
    '--backdoor-test',
    BACKDOOR,
    ...ARGS,
  );
}, 600_000);

describe('abl-audit audit on the BadNets fixture', () => {
  it('succeeds and prints a summary naming the outputs', () => {
    // --quiet: nothing on stderr but, on a slow machine, a progress line every 30 s of a long step.
    const progressLine = /^[^:]+: \d+(\/\d+)? rows \(/;
    expect(firstRun.stderr.split('\n').filter((l) => l !== '' && !progressLine.test(l))).toEqual([]);
    expect(firstRun.code).toBe(0);
    expect(firstRun.stdout).toMatch(/^verdict: poison-found \(class 0\)$/m);
    expect(firstRun.stdout).toMatch(/audited 3000 rows: \d+ quarantined \(\d+\.\d+%\)/);
    expect(firstRun.stdout).toMatch(/suspected target class: 0 \(T-shirt\/top\)/);
    expect(firstRun.stdout).toMatch(/clean accuracy \(all classes\): \d+\.\d+%/);
    expect(firstRun.stdout).toMatch(/attack success rate \(target 0\): \d+\.\d+%/);
    expect(firstRun.stdout).toContain(join(first, 'report.json'));
  });

  it('quarantines the poison of the target class only, far beyond a fixed 1%, nearly all of it poisoned', async () => {
    const quarantine = await partitionCounts(first, 'quarantine');
    const review = await partitionCounts(first, 'review');
    const clean = await partitionCounts(first, 'clean');
    expect(quarantine.rows + review.rows + clean.rows).toBe(3000);
    // 270 poisoned rows, all labelled 0: the quarantine is that class's fast mode, not a budget.
    expect(quarantine.labels).toEqual([0]);
    expect(review.labels.every((l) => l === 0)).toBe(true);
    expect(quarantine.rows).toBeGreaterThan(30);
    expect(quarantine.poisoned / quarantine.rows).toBeGreaterThanOrEqual(0.95);
    expect(quarantine.poisoned / 270).toBeGreaterThanOrEqual(0.3);
    const report = JSON.parse(await readFile(join(first, 'report.json'), 'utf8'));
    expect(report.summary).toMatchObject({
      verdict: 'poison-found',
      flaggedClasses: [0],
      quarantined: quarantine.rows,
      review: review.rows,
    });
    expect(report.detection).toMatchObject({
      verdict: 'poison-found',
      split: 'adaptive',
      review: review.rows,
    });
    expect(report.detection.classes.filter((c: { call: string }) => c.call === 'flagged')).toHaveLength(1);
    expect(report.isolation.groundTruth).toMatchObject({ poisoned: 270, isolated: quarantine.rows });
  });

  it('splits every row into quarantine, review or clean exactly once, columns and values unchanged', async () => {
    const all = ['quarantine', 'review', 'clean'].filter((p) => existsSync(join(first, p)));
    const written = [];
    for (const p of all) if ((await readdir(join(first, p))).length > 0) written.push(p);
    const union = written.map((p) => `SELECT * FROM read_parquet(${parts(first, p)})`).join(' UNION ALL ');
    const [[distinct, missing, unchanged]] = (await q(
      `WITH parts AS (${union}),
            src AS (SELECT * FROM read_parquet(${sqlString(TRAIN)}))
       SELECT (SELECT count(DISTINCT id) FROM parts),
              (SELECT count(*) FROM src WHERE id NOT IN (SELECT id FROM parts)),
              (SELECT count(*) FROM parts p JOIN src s USING (id)
                 WHERE p.image = s.image AND p.label = s.label AND p.poisoned = s.poisoned
                   AND p.label_original IS NOT DISTINCT FROM s.label_original)`,
    )) as [[bigint, bigint, bigint]];
    expect(Number(distinct)).toBe(3000);
    expect(Number(missing)).toBe(0);
    expect(Number(unchanged)).toBe(3000);
    const columns = async (file: string) =>
      (await q(`DESCRIBE SELECT * FROM read_parquet(${file})`)).map((r) => r[0]);
    const original = await columns(sqlString(TRAIN));
    expect(original).toContain('poisoned');
    const withScores = [...original, 'abl_loss', 'abl_score', 'abl_rank', 'abl_suspicion'];
    for (const p of written) expect(await columns(parts(first, p))).toEqual(withScores);
    // The quarantine is the most suspicious: every quarantined row is further below its class's clean
    // mode than every reviewed one, and the clean rows of the flagged class are below the review cut.
    const [[minQuarantined]] = (await q(
      `SELECT min(abl_suspicion) FROM read_parquet(${parts(first, 'quarantine')})`,
    )) as [[number]];
    expect(minQuarantined).toBeGreaterThanOrEqual(3);
    const [[maxClean]] = (await q(
      `SELECT max(abl_suspicion) FROM read_parquet(${parts(first, 'clean')})`,
    )) as [[number]];
    expect(maxClean).toBeLessThan(2.5);
  });

  it('writes scores.parquet: every row, its loss per isolation epoch, score and rank', async () => {
    const file = sqlString(join(first, 'scores.parquet'));
    const columns = (await q(`DESCRIBE SELECT * FROM read_parquet(${file})`)).map((r) => r[0]);
    expect(columns).toEqual([
      'id',
      'label',
      'loss_epoch_1',
      'loss_epoch_2',
      'abl_score',
      'abl_rank',
      'abl_suspicion',
      'abl_isolated',
      'abl_review',
    ]);
    const [[rows, ranks, minRank, maxRank, isolated]] = (await q(
      `SELECT count(*), count(DISTINCT abl_rank), min(abl_rank), max(abl_rank), count(*) FILTER (WHERE abl_isolated) FROM read_parquet(${file})`,
    )) as [[bigint, bigint, number, number, bigint]];
    const report = JSON.parse(await readFile(join(first, 'report.json'), 'utf8'));
    expect([Number(rows), Number(ranks), minRank, maxRank, Number(isolated)]).toEqual([
      3000,
      3000,
      0,
      2999,
      report.summary.quarantined,
    ]);
    const isolatedIds = (await q(`SELECT id FROM read_parquet(${file}) WHERE abl_isolated ORDER BY id`)).map(
      (r) => String(r[0]),
    );
    expect(isolatedIds).toEqual(await quarantineIds(first));
  });

  it('writes a versioned report.json with inputs, counts, parameters, metrics and ground-truth scores', async () => {
    const report = JSON.parse(await readFile(join(first, 'report.json'), 'utf8'));
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.status).toBe('passed');
    expect(report.summary).toMatchObject({ rows: 3000, suspectedTargetClass: 0 });
    const quarantined = report.summary.quarantined;
    expect(report.inputs.train.files[0]).toMatchObject({
      path: TRAIN,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(report.inputs.test.files).toHaveLength(1);
    expect(report.data.perClass.reduce((s: number, c: { quarantined: number }) => s + c.quarantined, 0)).toBe(
      quarantined,
    );
    expect(report.data.perSource).toEqual([
      { file: TRAIN, rows: 3000, quarantined, review: report.summary.review },
    ]);
    expect(report.isolation).toMatchObject({
      score: 'target-class',
      lga: 'batch',
      gamma: 0.5,
      epochs: 2,
      ratio: null,
      isolated: quarantined,
    });
    expect(report.isolation.epochsDetail).toHaveLength(2);
    // Ground truth is read for scoring only: 270 poisoned rows, precision measured on the isolated ones.
    expect(report.isolation.groundTruth).toMatchObject({ poisoned: 270, isolated: quarantined });
    expect(report.isolation.groundTruth.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.unlearning.epochs).toHaveLength(1);
    expect(report.metrics.cleanedModel.cleanAccuracy).toMatchObject({ rows: 500, convention: 'all-classes' });
    expect(report.metrics.cleanedModel.attackSuccessRate).toMatchObject({
      target: 0,
      targetFrom: 'suspected',
    });
    expect(report.metrics.afterIsolation.attackSuccessRate.value).toBeGreaterThan(0);
    expect(report.seed).toBe(7);
    expect(report.backend.name).toBe('wasm');
    // --threads auto: every core (at most 8) computes, each batch split across them.
    expect(report.backend.threads).toBe(Math.min(availableParallelism(), 8));
    expect(report.parameters.threads).toBe('auto');
    expect(Object.keys(report.versions)).toEqual(
      expect.arrayContaining(['abl-audit', 'node', 'tfjs-core', 'apache-arrow', 'parquet-wasm', 'rxjs']),
    );
    expect(report.parameters).toMatchObject({
      model: 'small-cnn',
      batchSize: 64,
      isolation: { ratio: null },
    });
    for (const stage of ['read', 'isolation', 'quarantine', 'unlearning', 'export', 'total']) {
      expect(report.timings[stage]).toBeGreaterThan(0);
    }
    expect(existsSync(join(first, WORK_DIR))).toBe(false);
  });

  it('writes report.html beside report.json, and `abl-audit report` renders it again', async () => {
    const html = await readFile(join(first, 'report.html'), 'utf8');
    const report = JSON.parse(await readFile(join(first, 'report.json'), 'utf8'));
    expect(html).toContain(`${report.summary.quarantined} of 3,000 rows (`);
    expect(html).toContain('<span class="verdict verdict-poison-found">poison-found</span>');
    expect(html).toContain('id="evidence"');
    expect((html.match(/class="thumb"/g) ?? []).length).toBe(Math.min(40, report.summary.quarantined));
    const page = join(tmp.path, 'again.html');
    const again = await runCli('report', first, '--html', page, '--thumbnails', '5', '--quiet');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`wrote ${page}\n`);
    const rendered = await readFile(page, 'utf8');
    expect((rendered.match(/class="thumb"/g) ?? []).length).toBe(5);
    // Same report, same outputs: the same page but for the thumbnails left out.
    const sections = (text: string) => [...text.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(sections(rendered)).toEqual(sections(html));
  });

  it('exports a model that plain tfjs loads, with its input contract in model.json', async () => {
    const json = JSON.parse(await readFile(join(first, 'model', 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata).toMatchObject({
      inputShape: { height: 28, width: 28, channels: 1 },
      channelOrder: 'HWC',
      pixelScaling: { inputRange: [0, 255], inModel: true },
      output: 'logits',
      numClasses: 10,
    });
    expect(json.userDefinedMetadata.classNames[0]).toBe('T-shirt/top');
    const out = await predictWithPlainTfjs(
      join(first, 'model'),
      new Array(2 * 28 * 28).fill(128),
      [2, 28, 28, 1],
    );
    expect(out).toHaveLength(20);
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it('quarantines (nearly) the same rows on one thread as split across every core', async () => {
    const single = join(tmp.path, 'single');
    const run = await runCli('audit', TRAIN, '--out', single, ...ARGS, '--threads', '1');
    expect(run.code).toBe(0);
    const report = JSON.parse(await readFile(join(single, 'report.json'), 'utf8'));
    expect(report.backend.threads).toBe(1);
    // Float32 sums split differently drift the losses apart over the epochs (up to ~0.09 after two on
    // the demo): rows that stand out stand out either way, but rows near the cut can swap.
    const alone = await quarantineIds(single);
    const split = new Set(await quarantineIds(first));
    const shared = alone.filter((id) => split.has(id)).length;
    expect(shared).toBeGreaterThanOrEqual(0.8 * Math.max(alone.length, split.size));
    // What the audit finds does not depend on the thread count: the same verdict, and against the
    // fixture's ground truth both quarantines are (nearly) all poison.
    const firstReport = JSON.parse(await readFile(join(first, 'report.json'), 'utf8'));
    expect(report.summary.verdict).toBe('poison-found');
    expect(report.isolation.groundTruth.precision).toBeGreaterThanOrEqual(0.95);
    expect(firstReport.isolation.groundTruth.precision).toBeGreaterThanOrEqual(0.95);
  }, 600_000);

  it('resumes a run killed mid-isolation and ends with the same quarantine and model', async () => {
    const out = join(tmp.path, 'killed');
    const child = spawn(
      process.execPath,
      [BIN, 'audit', TRAIN, '--out', out, '--test', TEST, '--backdoor-test', BACKDOOR, ...ARGS],
      {
        stdio: 'ignore',
      },
    );
    // Kill it as soon as the first isolation epoch's checkpoint exists: mid-isolation. (Polled for up
    // to ten minutes: on a busy machine the child takes a while to get there.)
    const runJson = join(out, WORK_DIR, 'run.json');
    for (let i = 0; i < 6000 && !existsSync(runJson); i++) await sleep(100);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(runJson)).toBe(true);
    expect(JSON.parse(await readFile(runJson, 'utf8'))).toMatchObject({ phase: 'isolation', epochs: 1 });
    expect(existsSync(join(out, 'report.json'))).toBe(false);

    const resumed = await runCli(
      'audit',
      TRAIN,
      '--out',
      out,
      '--test',
      TEST,
      '--backdoor-test',
      BACKDOOR,
      ...ARGS,
      '--resume',
    );
    expect(resumed.code).toBe(0);
    expect(await quarantineIds(out)).toEqual(await quarantineIds(first));
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.resumed).toBe(true);
    const weights = async (dir: string) => readFile(join(dir, 'model', 'weights.bin'));
    expect(Buffer.compare(await weights(out), await weights(first))).toBe(0);
  }, 600_000);
});

describe('abl-audit audit --resume with a damaged checkpoint', () => {
  it('fails with ABL103 naming the file, writing no output', async () => {
    const out = join(await tmp.sub('damaged'), 'out');
    await mkdir(join(out, WORK_DIR), { recursive: true });
    await writeFile(join(out, WORK_DIR, 'run.json'), '{"fingerprint": ');
    const run = await runCli('audit', TRAIN, '--out', out, ...ARGS, '--resume');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error ABL103: file .*run\.json: cannot read the checkpoint/);
    expect((await readdir(out)).sort()).toEqual(['.abl-audit-output.json', WORK_DIR].sort());
  });
});
