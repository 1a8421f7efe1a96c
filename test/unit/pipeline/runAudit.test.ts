import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../../src/config/auditConfig.js';
import { ErrorCode } from '../../../src/errors.js';
import { iterateDataset } from '../../../src/io/readDataset.js';
import { type AuditResult, runAudit } from '../../../src/pipeline/runAudit.js';
import { AUDIT_PHASES, type AuditEvent } from '../../../src/report/auditEvents.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../../helpers/tinyPoisonedSet.js';

const tmp = useTempDir('run-audit-');

// A whole audit of 480 tiny rows on one thread: every phase runs, in seconds.
let config: AuditConfig;
let result: AuditResult;
const events: AuditEvent[] = [];
const lines: string[] = [];
let poisoned: Set<string>;

beforeAll(async () => {
  const train = join(tmp.path, 'train.parquet');
  poisoned = await writeTinyPoisonedSet(train, {
    rows: 480,
    classes: 4,
    side: 8,
    poisonRate: 0.1,
    target: 0,
    seed: 4,
  });
  config = {
    ...AUDIT_DEFAULTS,
    train,
    out: join(tmp.path, 'out'),
    batchSize: 32,
    backend: 'wasm',
    threads: 1,
    isolation: { ...AUDIT_DEFAULTS.isolation, epochs: 2, ratio: 0.05 },
    unlearning: { ...AUDIT_DEFAULTS.unlearning, epochs: 1 },
  };
  result = await runAudit(config, { onEvent: (e) => events.push(e), log: (l) => lines.push(l) });
}, 600_000);

describe('runAudit', () => {
  it('runs every phase once, in order', () => {
    const started = events.filter((e) => e.type === 'phase-started').map((e) => e.phase);
    const finished = events.filter((e) => e.type === 'phase-finished').map((e) => e.phase);
    expect(started).toEqual([...AUDIT_PHASES]);
    expect(finished).toEqual([...AUDIT_PHASES]);
    expect(Object.keys(result.report.timings)).toEqual(
      expect.arrayContaining([...AUDIT_PHASES.slice(0, -1), 'total']),
    );
  });

  it('reports what the phases recorded: rows, the isolated share, the quarantine’s ground truth', () => {
    const { report } = result;
    expect(report.summary.rows).toBe(480);
    expect(report.summary.quarantined).toBe(24);
    expect(report.isolation.epochs).toBe(2);
    expect(report.isolation.minStandout).toBe(2.5);
    expect(report.isolation.groundTruth?.poisoned).toBe(poisoned.size);
    expect(report.data.perClass.reduce((s, c) => s + c.quarantined, 0)).toBe(24);
    expect(report.unlearning.epochs).toHaveLength(
      report.unlearning.epochs.filter((e) => e.retried).length + 1,
    );
    expect(report.backend).toMatchObject({ name: 'wasm', threads: 1 });
  });

  it('computes the page’s figures in the quarantine pass and writes them into report.json', async () => {
    const { figures } = result.report;
    expect(figures.topQuarantined).toHaveLength(24);
    expect(figures.topQuarantined.map((t) => t.rank)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(figures.topQuarantined.every((t) => t.poisoned === poisoned.has(t.id))).toBe(true);
    expect(figures.scoreBins?.reduce((s, b) => s + b.quarantined + b.kept, 0)).toBe(480);
    const onDisk = JSON.parse(await readFile(result.reportPath, 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(result.report)));
    expect((await stat(join(config.out, 'report.html'))).size).toBeGreaterThan(0);
  });

  it('words its events for the deprecated log hook, as the command line prints them', () => {
    expect(lines[lines.findIndex((l) => l.startsWith('read '))]).toBe(
      `read 480 rows of ${config.train} (8×8×1, 4 classes)`,
    );
    expect(lines.filter((l) => l.startsWith('isolation epoch '))).toHaveLength(2);
    // Four classes are too few to compare with each other: the verdict cannot be made.
    expect(lines).toContain('verdict: inconclusive; quarantined 24 of 480 rows (score target-class)');
    // The default removal retrains a fresh model, and the log says so.
    expect(lines.some((l) => l.startsWith('retraining epoch 1/1'))).toBe(true);
  });

  it('removes its checkpoints when it completes', async () => {
    await expect(stat(join(config.out, '.abl-work'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives the same quarantine, scores and model weights with the same seed, input and backend', async () => {
    const again = await runAudit({ ...config, out: join(tmp.path, 'again') });
    const idsOf = async (out: string) => {
      const ids: string[] = [];
      for await (const sb of iterateDataset(join(out, 'quarantine')))
        ids.push(...(sb.batch.getChild('id')?.toArray() ?? []));
      return ids.sort();
    };
    expect(await idsOf(join(tmp.path, 'again'))).toEqual(await idsOf(config.out));
    const bytes = (out: string, file: string) => readFile(join(out, file));
    expect(
      Buffer.compare(
        await bytes(join(tmp.path, 'again'), 'scores.parquet'),
        await bytes(config.out, 'scores.parquet'),
      ),
    ).toBe(0);
    expect(
      Buffer.compare(
        await bytes(join(tmp.path, 'again'), 'model/weights.bin'),
        await bytes(config.out, 'model/weights.bin'),
      ),
    ).toBe(0);
    expect(again.report.figures).toEqual(result.report.figures);
  });

  it('retrain removal: a fresh model on Adam\u2019s cosine schedule, resumed mid-way to the same weights', async () => {
    const retrain: AuditConfig = {
      ...config,
      out: join(tmp.path, 'retrain'),
      unlearning: { ...config.unlearning, removal: 'retrain', epochs: 2, retrainLearningRate: 0.002 },
    };
    const whole = await runAudit(retrain);
    const u = whole.report.unlearning;
    expect(u.removal).toBe('retrain');
    expect(u.ascended).toBe(false);
    // Cosine over 2 epochs from 0.002: 0.002 then 0.001.
    expect(u.epochs.map((e) => e.learningRate)).toEqual([0.002, expect.closeTo(0.001, 9)]);
    const out = join(tmp.path, 'retrain-interrupted');
    // Stopped after epoch 1's checkpoint (weights and Adam's moments), before epoch 2's.
    const interrupt = (e: AuditEvent) => {
      if (e.type === 'unlearning-epoch' && e.record.epoch === 2) throw new Error('interrupted');
    };
    await expect(runAudit({ ...retrain, out }, { onEvent: interrupt })).rejects.toThrow('interrupted');
    const resumedEvents: AuditEvent[] = [];
    const resumed = await runAudit(
      { ...retrain, out },
      { resume: true, onEvent: (e) => resumedEvents.push(e) },
    );
    expect(resumedEvents).toContainEqual(expect.objectContaining({ type: 'resumed', phase: 'unlearning' }));
    expect(resumed.report.unlearning.epochs).toHaveLength(2);
    const weights = (dir: string) => readFile(join(dir, 'model/weights.bin'));
    expect(Buffer.compare(await weights(out), await weights(retrain.out))).toBe(0);
    expect(Buffer.compare(await weights(retrain.out), await weights(config.out))).not.toBe(0);
  });

  it('refuses to resume a checkpoint of other parameters, naming what to do', async () => {
    const out = join(tmp.path, 'interrupted');
    // Interrupt the audit once isolation has checkpointed its epochs.
    const interrupt = (e: AuditEvent) => {
      if (e.type === 'phase-started' && e.phase === 'rank') throw new Error('interrupted');
    };
    await expect(runAudit({ ...config, out }, { onEvent: interrupt })).rejects.toThrow('interrupted');
    await expect(stat(join(out, '.abl-work', 'run.json'))).resolves.toBeTruthy();
    const other = { ...config, out, isolation: { ...config.isolation, gamma: 0.4 } };
    const error = await rejection(runAudit(other, { resume: true }));
    expect(error.code).toBe(ErrorCode.Usage);
    expect(error.message).toMatch(/interrupted audit of other inputs or parameters/);
  });
});
