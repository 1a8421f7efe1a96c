import { join } from 'node:path';
import { describeError } from '../../errors.js';
import { writeFileAtomically } from '../../io/atomicWrite.js';
import type { AuditReport } from '../../report/auditReport.js';
import { failpoint } from '../../util/failpoint.js';
import { clearCheckpoints } from '../auditCheckpoint.js';
import type { AuditPhase } from '../auditPhase.js';
import type { OutputRecord } from '../auditRecords.js';
import { type AuditRecords, buildAuditReport } from '../buildAuditReport.js';
import { writeHtmlReport } from '../writeHtmlReport.js';

/** What {@link runAudit} produced. */
export interface AuditResult {
  readonly report: AuditReport;
  /** Absolute path of report.json. */
  readonly reportPath: string;
}

/**
 * Report: builds report.json from the records and renders report.html from it, both into the staging
 * folder; then commits the run's outputs into the output folder as one unit (report.json moved in
 * last) and removes the checkpoints.
 */
export const reportPhase: AuditPhase<
  Omit<AuditRecords, 'config'> & { readonly output: OutputRecord },
  AuditResult
> = {
  name: 'report',
  async run({ output, ...records }, ctx) {
    const report = buildAuditReport({ ...records, config: ctx.config });
    const { staging } = output.folder;
    // A page that fails to render must not throw away a finished audit: it is reported and left out.
    const html = await ctx
      .time('html', () =>
        writeHtmlReport(staging, { report, unlocked: true }).then(() => report.outputs.html),
      )
      .catch((error: unknown) => {
        ctx.emit({
          type: 'warning',
          message: `warning: report.html was not written (${describeError(error)}); \`abl-audit report ${ctx.out}\` retries`,
        });
        return null;
      });
    const final = html === report.outputs.html ? report : { ...report, outputs: { ...report.outputs, html } };
    await writeFileAtomically(join(staging, 'report.json'), `${JSON.stringify(final, null, 2)}\n`);
    failpoint('before-commit');
    await output.folder.commit();
    await clearCheckpoints(ctx.out);
    return { report: final, reportPath: join(ctx.out, 'report.json') };
  },
};
