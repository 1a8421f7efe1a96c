import type { AuditReport } from '../auditReport.js';
import {
  classCountsSpec,
  lossTrajectorySpec,
  renderSvg,
  scoreHistogramSpec,
  triggerHeatmapSpec,
  unlearningSpec,
} from './charts.js';
import { renderReportHtml } from './renderReportHtml.js';

/** Options of {@link renderHtmlReport}. */
export interface RenderHtmlOptions {
  /** Whether the page will sit beside its report.json (its footer then links to it). Default true. */
  readonly besideReportJson?: boolean;
}

/**
 * Renders an audit's HTML report from its report.json alone: draws the charts with Vega-Lite (to
 * SVG) and returns one self-contained page.
 *
 * @example
 * ```ts
 * const html = await renderHtmlReport(report);
 * ```
 * @param report - the audit's report (with its figures).
 * @param options - where the page will be written.
 * @returns the page.
 */
export async function renderHtmlReport(
  report: AuditReport,
  options: RenderHtmlOptions = {},
): Promise<string> {
  const { figures } = report;
  const [classCounts, scoreHistogram, lossTrajectory, unlearning, triggerHeatmap] = await Promise.all([
    renderSvg(classCountsSpec(report)),
    figures.scoreBins && figures.scoreBins.length > 0
      ? renderSvg(scoreHistogramSpec(figures.scoreBins, 'score (lower = more suspicious)'))
      : null,
    optionalSvg(lossTrajectorySpec(report)),
    optionalSvg(unlearningSpec(report)),
    figures.trigger ? renderSvg(triggerHeatmapSpec(figures.trigger)) : null,
  ]);
  return renderReportHtml(
    report,
    { classCounts, scoreHistogram, lossTrajectory, unlearning, triggerHeatmap },
    { besideReportJson: options.besideReportJson ?? true },
  );
}

function optionalSvg(spec: Parameters<typeof renderSvg>[0] | null): Promise<string | null> {
  return spec === null ? Promise.resolve(null) : renderSvg(spec);
}
