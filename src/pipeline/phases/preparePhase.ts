import { stat } from 'node:fs/promises';
import { listDataFiles } from '../../io/listDataFiles.js';
import { openOutputFolder } from '../../io/output/openOutputFolder.js';
import { WORK_DIR } from '../auditCheckpoint.js';
import type { AuditPhase } from '../auditPhase.js';
import type { OutputRecord } from '../auditRecords.js';

/** What an audit writes at the top of its output folder; report.json marks a complete run. */
export const AUDIT_OUTPUTS = [
  'quarantine',
  'review',
  'clean',
  'scores.parquet',
  'sources.parquet',
  'model',
  'report.html',
  'report.json',
];

/**
 * The outputs take about what the training data takes (every row is written again, to quarantine/ or
 * clean/), plus scores, the model and the report; the previous run's stay until the commit.
 */
const OUTPUT_SIZE_FACTOR = 1.25;
const OUTPUT_SIZE_MARGIN = 64 * 2 ** 20;

/**
 * Prepare: before any data is read or model trained, opens the output folder: checks that it can be
 * written, is not an input and has room, claims it (refusing someone else's folder unless
 * `--force`), locks it for this run, finishes or cleans up what a killed run left, and stages this
 * run's outputs apart until they are committed together.
 */
export const preparePhase: AuditPhase<void, OutputRecord> = {
  name: 'prepare',
  async run(_, ctx) {
    const { config } = ctx;
    const inputs = [config.train, config.test, config.backdoorTest].filter((p): p is string => p !== null);
    let bytes = 0;
    for (const file of await listDataFiles(config.train)) bytes += (await stat(file.path)).size;
    const folder = await openOutputFolder(ctx.out, {
      inputs,
      estimateBytes: bytes * OUTPUT_SIZE_FACTOR + OUTPUT_SIZE_MARGIN,
      managed: AUDIT_OUTPUTS,
      keystone: 'report.json',
      keep: [WORK_DIR],
      command: 'abl-audit audit',
      force: config.force,
    });
    ctx.onClose(() => folder.release());
    if (folder.forced) {
      ctx.emit({
        type: 'warning',
        message: `warning: ${ctx.out} holds files abl-audit did not write; writing beside them (--force)`,
      });
    }
    return { folder };
  },
};
