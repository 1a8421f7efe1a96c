import { dirname, join, resolve } from 'node:path';
import { writeFileAtomically } from '../io/atomicWrite.js';
import { lockOutput } from '../io/output/outputLock.js';
import type { AuditReport } from '../report/auditReport.js';
import { type RenderHtmlOptions, renderHtmlReport as renderPage } from '../report/html/renderHtmlReport.js';
import { HTML_REPORT_NAME, readAuditReport, type StoredAuditReport } from '../report/readAuditReport.js';
import { figuresFromOutputs } from './figuresFromOutputs.js';

/** Options of {@link writeHtmlReport}. */
export interface WriteHtmlReportOptions {
  /** The report when already in memory (else read from OUT/report.json). */
  readonly report?: StoredAuditReport | AuditReport;
  /** Where to write the page (default OUT/report.html). */
  readonly target?: string;
  /**
   * How many of the most suspicious quarantined rows to show (default: those the audit kept, 40).
   * More than the audit kept are read from `quarantine/`.
   */
  readonly thumbnails?: number;
  /** Called with the rows read so far, when the figures must be read from the outputs. */
  readonly onProgress?: (rows: number) => void;
  /**
   * Write without taking the folder's lock: for the audit itself, which writes the page into its
   * staging folder while it holds the lock.
   */
  readonly unlocked?: boolean;
}

/**
 * Writes `report.html` for an audit (atomically), from its report.json. What `abl-audit report OUT`
 * runs; every audit also writes it.
 *
 * <span class="informal">The page is rendered from the report alone. Only reports written before the
 * audit computed the page's figures, or a request for more thumbnails than it kept, read the
 * audit's outputs (`scores.parquet`, `quarantine/`, `clean/`).</span>
 *
 * @example
 * ```ts
 * const path = await writeHtmlReport('out/audit'); // out/audit/report.html
 * ```
 * @param outDir - the audit's output folder (or its report.json).
 * @param options - the report when in memory, the target, thumbnails, progress.
 * @returns the path written.
 * @throws IoError when report.json or a needed output is missing or unreadable, or the page cannot be
 *   written.
 */
export async function writeHtmlReport(outDir: string, options: WriteHtmlReportOptions = {}): Promise<string> {
  const { report, outDir: folder } = options.report
    ? { report: options.report, outDir: resolve(outDir) }
    : await readAuditReport(outDir);
  const target = options.target ? resolve(options.target) : join(folder, HTML_REPORT_NAME);
  const complete = await withFigures(folder, report, options);
  const beside = dirname(target) === folder;
  const html = await renderPage(complete, { besideReportJson: beside });
  // Writing into the audit's folder: not while an audit is committing into it.
  const lock = beside && !options.unlocked ? await lockOutput(folder, 'abl-audit report') : null;
  try {
    await writeFileAtomically(target, html);
  } finally {
    await lock?.release();
  }
  return target;
}

/** The report with the figures the page needs: its own, trimmed, or read again from the outputs. */
async function withFigures(
  folder: string,
  report: StoredAuditReport | AuditReport,
  options: WriteHtmlReportOptions,
): Promise<AuditReport> {
  const kept = report.figures;
  const wanted = options.thumbnails;
  const more =
    kept !== null &&
    wanted !== undefined &&
    wanted > kept.topQuarantined.length &&
    kept.topQuarantined.length < report.summary.quarantined;
  if (kept === null || more) {
    const figures = await figuresFromOutputs(folder, report, {
      thumbnails: wanted,
      onProgress: options.onProgress,
    });
    return { ...report, figures };
  }
  const topQuarantined = wanted === undefined ? kept.topQuarantined : kept.topQuarantined.slice(0, wanted);
  return { ...report, figures: { ...kept, topQuarantined } };
}

/**
 * Renders an audit's HTML report (see {@link writeHtmlReport}) without writing it.
 *
 * @example
 * ```ts
 * const html = await renderHtmlReport(report);
 * ```
 * @param report - the audit's report, with its figures.
 * @param options - whether the page will sit beside report.json.
 * @returns the page.
 */
export function renderHtmlReport(report: AuditReport, options?: RenderHtmlOptions): Promise<string>;
/**
 * @deprecated pass the report alone: audits now keep the page's figures in report.json. This form
 *   still reads them from the audit's outputs when the report has none.
 */
export function renderHtmlReport(
  outDir: string,
  report: StoredAuditReport | AuditReport,
  options?: RenderHtmlOptions & Omit<WriteHtmlReportOptions, 'report' | 'target'>,
): Promise<string>;
export async function renderHtmlReport(
  first: string | AuditReport,
  second?: StoredAuditReport | AuditReport | RenderHtmlOptions,
  third: RenderHtmlOptions & Omit<WriteHtmlReportOptions, 'report' | 'target'> = {},
): Promise<string> {
  if (typeof first !== 'string') return renderPage(first, second as RenderHtmlOptions | undefined);
  const complete = await withFigures(resolve(first), second as StoredAuditReport | AuditReport, third);
  return renderPage(complete, third);
}
