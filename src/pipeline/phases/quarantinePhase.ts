import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { ROW_CALLS } from '../../abl/detectPoison.js';
import { rollupSources } from '../../abl/sourceRollup.js';
import { GROUND_TRUTH_COLUMN, writeQuarantine } from '../../abl/writeQuarantine.js';
import { writeScores } from '../../abl/writeScores.js';
import { createSourceCounter, SOURCES_FILE, writeSources } from '../../abl/writeSources.js';
import type { ExampleBatch } from '../../data/exampleBatch.js';
import { imageSize } from '../../data/imageShape.js';
import type { DataFile } from '../../io/dataFile.js';
import { binScores, createFigureCollector, triggerLabel } from '../../report/figures/figureCollector.js';
import { DEFAULT_SCORE_BINS } from '../../report/figures/figureLimits.js';
import { failpoint } from '../../util/failpoint.js';
import type { AuditPhase } from '../auditPhase.js';
import type {
  DatasetRecord,
  IsolationRecord,
  OutputRecord,
  QuarantineRecord,
  RankingRecord,
} from '../auditRecords.js';

/**
 * Quarantine: writes `scores.parquet`, then streams the training data once more into `quarantine/`
 * (the isolated rows), `review/` (the review band) and `clean/` (the rest), every original column kept
 * plus the audit's scores, counting each upstream source's rows on the way (`sources.parquet`).
 * The same pass collects what report.html draws (thumbnails, the trigger view, the score histogram),
 * so the page needs no second read.
 */
export const quarantinePhase: AuditPhase<
  {
    readonly output: OutputRecord;
    readonly dataset: DatasetRecord;
    readonly isolation: IsolationRecord;
    readonly ranking: RankingRecord;
  },
  QuarantineRecord
> = {
  name: 'quarantine',
  async run({ output, dataset, isolation, ranking }, ctx) {
    const traj = isolation.trajectories;
    const { scores, suspect, calls } = ranking;
    const { suspicion } = ranking.detection;
    const { staging } = output.folder;
    await writeScores(join(staging, 'scores.parquet'), traj, scores, { calls, suspicion });
    const quarantinedPerClass = new Array<number>(dataset.numClasses).fill(0);
    for (const row of ranking.isolatedRows) {
      const label = traj.labels[row] as number;
      quarantinedPerClass[label] = (quarantinedPerClass[label] ?? 0) + 1;
    }
    const figures = createFigureCollector({
      shape: dataset.shape,
      triggerLabel: triggerLabel(suspect?.label ?? null, quarantinedPerClass),
    });
    const isQuarantined = (row: number) => calls[row] === ROW_CALLS.quarantine;
    const sourceColumn = dataset.columns.source;
    const sources = createSourceCounter(sourceColumn, calls);
    const collect = (examples: ExampleBatch, rows: readonly number[], batch: RecordBatch, file: DataFile) => {
      sources.add(batch, file, rows);
      const truth = batch.getChild(GROUND_TRUTH_COLUMN);
      const hasTruth = truth !== null && String(truth.type) === 'Bool';
      const size = imageSize(examples.shape);
      rows.forEach((row, i) => {
        const label = examples.labels[i] as number;
        const rank = scores.rank[row] as number;
        if (!figures.wants(label, rank, isQuarantined(row))) return;
        figures.add({
          id: examples.ids[i] as string,
          label,
          rank,
          score: scores.score[row] as number,
          quarantined: isQuarantined(row),
          poisoned: hasTruth ? truth.get(i) === true : null,
          pixels: examples.images.subarray(i * size, (i + 1) * size),
        });
      });
    };
    const bar = ctx.progress('quarantine', dataset.rows);
    const summary = await writeQuarantine(
      ctx.config.train,
      staging,
      {
        index: new Map(traj.ids.map((id, i) => [id, i])),
        loss: traj.losses[traj.losses.length - 1] as Float32Array,
        score: scores.score,
        rank: scores.rank,
        calls,
        suspicion,
      },
      { ...ctx.config.columns, onProgress: (rows) => bar.update(rows), onRows: collect },
    );
    bar.stop();
    const rolled = rollupSources(sources.counts());
    // A source is named only where the audit found poison: a quarantine is nothing to trace otherwise.
    const rollup = ranking.detection.verdict === 'poison-found' ? rolled : { ...rolled, standout: null };
    await writeSources(join(staging, SOURCES_FILE), rollup);
    failpoint('quarantine-written');
    ctx.emit({
      type: 'quarantined',
      quarantined: summary.quarantined,
      review: summary.review,
      verdict: ranking.detection.verdict,
      flagged: ranking.detection.flagged,
      rows: dataset.rows,
      score: scores.method,
      suspect: suspect && { label: suspect.label, share: suspect.share },
    });
    const flags = Array.from(calls, (c) => c === ROW_CALLS.quarantine);
    return {
      summary,
      figures: figures.finish(binScores(scores.score, flags, DEFAULT_SCORE_BINS)),
      sources: rollup,
      sourceColumn,
    };
  },
};
