import { join } from 'node:path';
import { GROUND_TRUTH_COLUMN } from '../abl/writeQuarantine.js';
import { createExampleDecoder } from '../data/decodeExamples.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import { iterateDataset } from '../io/readDataset.js';
import type { AuditReport, ReportFigures, ScoreBin } from '../report/auditReport.js';
import { binScores, createFigureCollector, triggerLabel } from '../report/figures/figureCollector.js';
import { DEFAULT_SCORE_BINS } from '../report/figures/figureLimits.js';
import type { StoredAuditReport } from '../report/readAuditReport.js';

/** Options of {@link figuresFromOutputs}. */
export interface FiguresFromOutputsOptions {
  /** How many of the top-ranked quarantined rows to keep as thumbnails (default 40). */
  readonly thumbnails?: number;
  /** Called with the rows read so far (both partitions). */
  readonly onProgress?: (rows: number) => void;
}

/**
 * Computes a report's figures again from an audit's outputs: the score histogram from
 * `scores.parquet`, the thumbnails and trigger view from `quarantine/` and `clean/` (one streaming
 * pass each; memory is one row group plus the thumbnails).
 *
 * <span class="informal">Audits compute their figures while they write the quarantine, so this is
 * needed only for reports written before they did, and for more thumbnails than the audit kept.</span>
 *
 * @param outDir - the audit's output folder.
 * @param report - its report.json.
 * @param options - thumbnail count and progress.
 * @returns the figures.
 * @throws IoError / DataError when an output is missing or unreadable, naming the file.
 */
export async function figuresFromOutputs(
  outDir: string,
  report: StoredAuditReport | AuditReport,
  options: FiguresFromOutputsOptions = {},
): Promise<ReportFigures> {
  const columns: ColumnOverrides = {
    imageCol: report.data.columns.image,
    labelCol: report.data.columns.label,
    idCol: report.data.columns.id ?? undefined,
    imageShape: report.data.imageShape,
  };
  const collector = createFigureCollector({
    shape: report.data.imageShape,
    triggerLabel: triggerLabel(
      report.summary.suspectedTargetClass,
      report.data.perClass.map((c) => c.quarantined),
    ),
    thumbnails: options.thumbnails,
  });
  const scoreBins = await readScoreBins(join(outDir, report.outputs.scores));
  let read = 0;
  // An empty partition folder has no data files to read.
  const partitions = [
    { folder: 'quarantine', quarantined: true, rows: report.summary.quarantined },
    { folder: 'clean', quarantined: false, rows: report.summary.rows - report.summary.quarantined },
  ];
  for (const part of partitions) {
    if (part.rows === 0) continue;
    const folder = join(outDir, part.folder);
    const decoder = createExampleDecoder({ ...columns, source: folder });
    for await (const sb of iterateDataset(folder)) {
      const ex = decoder.decode(sb);
      if (!ex) continue;
      const rank = sb.batch.getChild('abl_rank');
      const score = sb.batch.getChild('abl_score');
      const truth = sb.batch.getChild(GROUND_TRUTH_COLUMN);
      const hasTruth = truth !== null && String(truth.type) === 'Bool';
      const size = ex.images.length / Math.max(1, ex.ids.length);
      ex.ids.forEach((id, i) => {
        const r = rank ? Number(rank.get(i)) : Number.POSITIVE_INFINITY;
        const label = ex.labels[i] as number;
        if (!collector.wants(label, r, part.quarantined)) return;
        collector.add({
          id,
          label,
          rank: r,
          score: score ? Number(score.get(i)) : Number.NaN,
          quarantined: part.quarantined,
          poisoned: hasTruth ? truth.get(i) === true : null,
          pixels: ex.images.subarray(i * size, (i + 1) * size),
        });
      });
      read += ex.ids.length;
      options.onProgress?.(read);
    }
  }
  return collector.finish(scoreBins);
}

async function readScoreBins(path: string): Promise<ScoreBin[] | null> {
  const scores: number[] = [];
  const isolated: boolean[] = [];
  for await (const sb of iterateDataset(path)) {
    const score = sb.batch.getChild('abl_score');
    const flag = sb.batch.getChild('abl_isolated');
    if (!score || !flag) continue;
    for (let i = 0; i < sb.batch.numRows; i++) {
      scores.push(Number(score.get(i)));
      isolated.push(flag.get(i) === true);
    }
  }
  return scores.length === 0 ? null : binScores(scores, isolated, DEFAULT_SCORE_BINS);
}
