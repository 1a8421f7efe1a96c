import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describeError, ErrorCode, IoError } from '../errors.js';
import type { ReportFigures } from './auditReport.js';
import { type AuditReport, REPORT_SCHEMA } from './auditReport.js';

/** File name of the HTML report inside an audit's output folder. */
export const HTML_REPORT_NAME = 'report.html';

/**
 * The standout threshold of the reports written before report.json recorded it (`minStandout`): the
 * value the code had then.
 */
const STANDOUT_BEFORE_RECORDED = 2.5;

/**
 * A report.json as read from disk: reports written before the audit computed the page's figures have
 * none (`figures: null`); `writeHtmlReport` then collects them from the audit's outputs.
 */
export type StoredAuditReport = Omit<AuditReport, 'figures'> & { readonly figures: ReportFigures | null };

/**
 * Reads and checks an audit's `report.json`.
 *
 * @param outDir - the audit's output folder, or the path of a report.json.
 * @returns the report and the folder it belongs to.
 * @throws IoError ABL101 when there is no report.json, ABL103 when it is not JSON or not a report of
 *   the schema this version reads.
 */
export async function readAuditReport(
  outDir: string,
): Promise<{ report: StoredAuditReport; outDir: string }> {
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
  // Reports written before report.html existed lack outputs.html, those written before guard retries
  // lack their fields, and older ones lack the standout threshold and the figures; fill them so that
  // every field is present, as docs/report-schema.md promises (an older report's guard never retried,
  // and tolerated maxDrop).
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
  const isolation = {
    ...report.isolation,
    minStandout: report.isolation.minStandout ?? STANDOUT_BEFORE_RECORDED,
  };
  const figures = report.figures ?? null;
  return { report: { ...report, outputs, unlearning, isolation, figures }, outDir: folder };
}
