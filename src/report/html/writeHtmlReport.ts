import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describeError, ErrorCode, IoError } from '../../errors.js';
import { writeFileAtomically } from '../../io/atomicWrite.js';
import { type AuditReport, REPORT_SCHEMA } from '../auditReport.js';
import {
  classCountsSpec,
  lossTrajectorySpec,
  renderSvg,
  scoreHistogramSpec,
  triggerHeatmapSpec,
  unlearningSpec,
} from './charts.js';
import { renderReportHtml } from './renderReportHtml.js';
import { type CollectFiguresOptions, collectReportFigures } from './reportFigures.js';

/** File name of the HTML report inside an audit's output folder. */
export const HTML_REPORT_NAME = 'report.html';

/**
 * Reads and checks an audit's `report.json`.
 *
 * @param outDir - the audit's output folder, or the path of a report.json.
 * @returns the report and the folder it belongs to.
 * @throws IoError ABL101 when there is no report.json, ABL103 when it is not JSON or not a report of
 *   the schema this version reads.
 */
export async function readAuditReport(outDir: string): Promise<{ report: AuditReport; outDir: string }> {
  const given = resolve(outDir);
  // A path ending in .json names the report itself, so that a missing one is reported as itself.
  const isFile = given.endsWith('.json');
  const path = isFile ? given : join(given, 'report.json');
  const folder = isFile ? dirname(given) : given;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new IoError(
      ErrorCode.FileNotFound,
      `no audit report here (${describeError(cause)}); give the output folder of \`abl-audit audit\` or \`abl-audit run\``,
      { cause, location: { file: path } },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new IoError(ErrorCode.CorruptFile, `report.json is not valid JSON: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
  const schema = (parsed as { schema?: unknown } | null)?.schema;
  if (schema !== REPORT_SCHEMA) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `not an abl-audit report this version can read: schema ${JSON.stringify(schema ?? null)}, expected "${REPORT_SCHEMA}"`,
      { location: { file: path } },
    );
  }
  const report = parsed as AuditReport;
  // Reports written before report.html existed lack outputs.html, and those written before guard
  // retries lack their fields; fill them so that every field is present, as docs/report-schema.md
  // promises (an older report's guard never retried, and tolerated maxDrop).
  const outputs = { ...report.outputs, html: report.outputs?.html ?? HTML_REPORT_NAME };
  const { guard } = report.unlearning;
  const unlearning = {
    ...report.unlearning,
    epochs: report.unlearning.epochs.map((e) => ({
      ...e,
      retried: e.retried ?? false,
      accuracyTolerance: e.accuracyTolerance ?? guard.maxDrop,
    })),
    guard: { ...guard, retries: guard.retries ?? 0, maxRetries: guard.maxRetries ?? 0 },
  };
  return { report: { ...report, outputs, unlearning }, outDir: folder };
}

/**
 * Renders the HTML report of an audit: reads the figures' data from its outputs, draws the charts
 * with Vega-Lite, and returns one self-contained page.
 *
 * @param outDir - the audit's output folder.
 * @param report - its report.json.
 * @param options - thumbnails, bins, progress while reading the clean partition.
 */
export async function renderHtmlReport(
  outDir: string,
  report: AuditReport,
  options: CollectFiguresOptions & { readonly besideReportJson?: boolean } = {},
): Promise<string> {
  const figures = await collectReportFigures(outDir, report, options);
  const [classCounts, scoreHistogram, lossTrajectory, unlearning, triggerHeatmap] = await Promise.all([
    renderSvg(classCountsSpec(report)),
    figures.scoreBins
      ? renderSvg(scoreHistogramSpec(figures.scoreBins, 'score (lower = more suspicious)'))
      : null,
    optionalSvg(lossTrajectorySpec(report)),
    optionalSvg(unlearningSpec(report)),
    figures.trigger ? renderSvg(triggerHeatmapSpec(figures.trigger)) : null,
  ]);
  return renderReportHtml(
    report,
    figures,
    { classCounts, scoreHistogram, lossTrajectory, unlearning, triggerHeatmap },
    { besideReportJson: options.besideReportJson ?? true },
  );
}

function optionalSvg(spec: Parameters<typeof renderSvg>[0] | null): Promise<string | null> {
  return spec === null ? Promise.resolve(null) : renderSvg(spec);
}

/**
 * Writes `report.html` into an audit's output folder (atomically), from its report.json and outputs.
 * What `abl-audit report OUT` runs; every audit also writes it.
 *
 * @example
 * ```ts
 * const path = await writeHtmlReport('out/audit'); // out/audit/report.html
 * ```
 * @param outDir - the audit's output folder (or its report.json).
 * @param options - the report when already in memory (else read from report.json), and figure options.
 * @returns the path written.
 * @throws IoError when report.json or an output is missing or unreadable, or the page cannot be written.
 */
export async function writeHtmlReport(
  outDir: string,
  options: CollectFiguresOptions & { readonly report?: AuditReport; readonly target?: string } = {},
): Promise<string> {
  const { report, outDir: folder } = options.report
    ? { report: options.report, outDir: resolve(outDir) }
    : await readAuditReport(outDir);
  const target = options.target ? resolve(options.target) : join(folder, HTML_REPORT_NAME);
  const html = await renderHtmlReport(folder, report, {
    ...options,
    besideReportJson: dirname(target) === folder,
  });
  await writeFileAtomically(target, html);
  return target;
}
