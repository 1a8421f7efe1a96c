import type { AuditConfig } from '../config/auditConfig.js';
import { type AuditHooks, startAudit } from './auditPhase.js';
import { exportPhase } from './phases/exportPhase.js';
import { isolatePhase } from './phases/isolatePhase.js';
import { preparePhase } from './phases/preparePhase.js';
import { quarantinePhase } from './phases/quarantinePhase.js';
import { rankPhase } from './phases/rankPhase.js';
import { readPhase } from './phases/readPhase.js';
import { type AuditResult, reportPhase } from './phases/reportPhase.js';
import { setupPhase } from './phases/setupPhase.js';
import { unlearnPhase } from './phases/unlearnPhase.js';

export type { AuditHooks, StageProgress } from './auditPhase.js';
export type { AuditResult } from './phases/reportPhase.js';

/**
 * Runs the whole ABL audit: prepare (the output folder) → read → setup → isolate (LGA, per-epoch losses) → rank → quarantine
 * (`quarantine/`, `clean/`, `scores.parquet`, the report's figures) → retrain and unlearn under guards
 * → export (`model/`) → report (`report.html`, `report.json`, committed into `OUT` as one unit).
 *
 * <span class="informal">Each phase is a typed record in, a typed record out; the run around them
 * times them, shows their progress, emits their events and checkpoints their epochs in
 * `OUT/.abl-work/` (removed on success). With `resume` a killed run continues from the last
 * checkpoint and ends with the same outputs as an uninterrupted run. Everything random derives from
 * `config.seed`. Ground truth (a `poisoned` column) is read only to score the isolation in the
 * report.</span>
 *
 * ```text
 * prepare ─► read ─► setup ─► isolation ─► rank ─► quarantine ─► unlearning ─► export ─► report
 * ```
 *
 * @example
 * ```ts
 * const { report } = await runAudit({ ...AUDIT_DEFAULTS, train: 'data/train.parquet', out: 'out/audit' });
 * console.log(report.summary.quarantined, report.summary.suspectedTargetClass);
 * ```
 * @param config - the validated configuration (see `AUDIT_DEFAULTS`).
 * @param hooks - events, progress and resume.
 * @returns the report (also written to OUT/report.json) and its path.
 * @throws DataError / IoError / UsageError / TrainError as the phases do; outputs already written are
 *   complete files (each is written atomically), and report.json is written last.
 */
export async function runAudit(config: AuditConfig, hooks: AuditHooks = {}): Promise<AuditResult> {
  const run = startAudit(config, hooks);
  try {
    const output = await run.phase(preparePhase, undefined);
    const dataset = await run.phase(readPhase, undefined);
    const training = await run.phase(setupPhase, dataset);
    const isolation = await run.phase(isolatePhase, { dataset, training });
    const ranking = await run.phase(rankPhase, isolation);
    const quarantine = await run.phase(quarantinePhase, { output, dataset, isolation, ranking });
    const unlearning = await run.phase(unlearnPhase, { dataset, training, isolation, ranking });
    const exported = await run.phase(exportPhase, { output, dataset, training, ranking });
    const records = { output, dataset, training, isolation, ranking, quarantine, unlearning, exported };
    return await run.phase(reportPhase, { ...records, timings: run.timings() });
  } finally {
    await run.close();
  }
}
