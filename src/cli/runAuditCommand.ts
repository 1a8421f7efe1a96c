import { dirname, join } from 'node:path';
import type { AuditConfig } from '../config/auditConfig.js';
import { runAudit } from '../pipeline/runAudit.js';
import { type AuditEvent, describeAuditEvent } from '../report/auditEvents.js';
import type { AuditReport } from '../report/auditReport.js';
import type { CliOutput } from './output.js';
import { ExitCode } from './reportError.js';

/** What `audit` and `run` share: where to print, and whether to resume. */
export interface AuditCliContext {
  readonly output: CliOutput;
  readonly resume: boolean;
}

/**
 * Runs an audit for the CLI: stage messages and progress through `ctx.output`, a short summary as the
 * result, and the exit code (3 when a gate failed, after every output has been written).
 */
export async function runAuditForCli(config: AuditConfig, ctx: AuditCliContext): Promise<number> {
  const { output } = ctx;
  const { report, reportPath } = await runAudit(config, {
    onEvent: (event) => printEvent(output, event),
    resume: ctx.resume,
    progress: (label, total) => output.progress(label, { total, unit: 'rows' }),
  });
  const failed = report.gates.filter((g) => !g.passed);
  const exitCode = failed.length > 0 ? ExitCode.GateFailed : ExitCode.Ok;
  output.result(summarize(report, reportPath), {
    status: report.status,
    exitCode,
    summary: report.summary,
    gates: report.gates,
    report: reportPath,
    html: report.outputs.html === null ? null : join(dirname(reportPath), report.outputs.html),
  });
  // After the summary, so that the last thing on a terminal is what made the command fail.
  for (const gate of failed) output.warn(`gate failed: ${gate.message}`, { gate: gate.name });
  return exitCode;
}

/**
 * An audit event on stderr: worded for people, with its type (`kind`) and fields in JSON logs. Warnings print
 * even with --quiet; phase starts and ends only reach JSON logs.
 */
function printEvent(output: CliOutput, event: AuditEvent): void {
  const { type, ...fields } = event;
  const line = describeAuditEvent(event);
  if (event.type === 'warning') output.warn(event.message, { kind: type });
  else if (line !== null) output.info(line, { kind: type, ...fields });
  else if (output.format === 'json') output.info(type, { kind: type, ...fields });
}

function summarize(report: AuditReport, reportPath: string): string {
  const s = report.summary;
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const target = report.isolation.suspectedTarget;
  const lines = [
    `verdict: ${s.verdict ?? 'not made'}${s.flaggedClasses.length > 0 ? ` (class${s.flaggedClasses.length > 1 ? 'es' : ''} ${s.flaggedClasses.join(', ')})` : ''}`,
    ...(report.detection ? [report.detection.explanation] : []),
    `audited ${s.rows} rows: ${s.quarantined} quarantined (${pct(s.quarantinedFraction)})${s.review > 0 ? `, ${s.review} in review/` : ''}`,
    target
      ? `suspected target class: ${target.label}${target.name ? ` (${target.name})` : ''}, ${pct(target.share)} of the quarantine, ${target.lift.toFixed(1)}× its share of the data`
      : 'suspected target class: none',
  ];
  const named = report.sources?.entries.find((e) => e.source === s.standoutSource);
  if (named) {
    lines.push(
      `likely source of the poison: ${named.source}, ${pct(named.quarantineShare)} of the quarantine, ${named.lift.toFixed(1)}× its share of the data`,
    );
  }
  const gt = report.isolation.groundTruth;
  if (gt) {
    lines.push(
      `isolation vs ground truth: precision ${pct(gt.precision)}, recall ${gt.recall === null ? 'n/a' : pct(gt.recall)}, AUROC ${gt.auroc === null ? 'n/a' : gt.auroc.toFixed(3)}`,
    );
  }
  const before = report.metrics.afterIsolation;
  const after = report.metrics.cleanedModel;
  if (after.cleanAccuracy) {
    lines.push(
      `clean accuracy (all classes): ${pct(after.cleanAccuracy.value)}${before.cleanAccuracy ? ` (after isolation ${pct(before.cleanAccuracy.value)})` : ''}`,
    );
  }
  if (after.attackSuccessRate) {
    lines.push(
      `attack success rate (target ${after.attackSuccessRate.target}): ${pct(after.attackSuccessRate.value)}${before.attackSuccessRate ? ` (after isolation ${pct(before.attackSuccessRate.value)})` : ''}`,
    );
  }
  if (report.unlearning.guard.stopped)
    lines.push('unlearning was stopped by the guard (rolled back to the last good epoch)');
  for (const gate of report.gates) lines.push(`gate ${gate.passed ? 'passed' : 'FAILED'}: ${gate.message}`);
  const out = reportPath.replace(/report\.json$/, '');
  lines.push(
    `outputs: ${out}quarantine/, ${out}review/, ${out}clean/, ${out}scores.parquet, ${report.outputs.sources ? `${out}${report.outputs.sources}, ` : ''}${out}${report.outputs.model}/, ${reportPath}`,
    report.outputs.html === null
      ? `report.html was not written; \`abl-audit report ${out}\` retries`
      : `open the report: ${out}${report.outputs.html}`,
  );
  return `${lines.join('\n')}\n`;
}
