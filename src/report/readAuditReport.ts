import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describeError, ErrorCode, IoError } from '../errors.js';
import type { ReportFigures } from './auditReport.js';
import { type AuditReport, REPORT_SCHEMA } from './auditReport.js';
import { isAuditReport } from './reportSchema.js';

/** File name of the HTML report inside an audit's output folder. */
export const HTML_REPORT_NAME = 'report.html';

/**
 * The standout threshold of the reports written before report.json recorded it (`minStandout`): the
 * value the code had then.
 */
const STANDOUT_BEFORE_RECORDED = 2.5;

/** The schema before the verdict, the review band and the class evidence (read, upgraded). */
const BEFORE_VERDICTS = 'abl-audit/report@1';
/** The schema before the per-source rollup (read, upgraded). */
const BEFORE_SOURCES = 'abl-audit/report@2';

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
 * @throws IoError ABL101 when there is no report.json, ABL103 when it is not JSON, not a report of
 *   the schema this version reads, or a field has the wrong type (named in the message).
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
  if (schema !== REPORT_SCHEMA && schema !== BEFORE_VERDICTS && schema !== BEFORE_SOURCES) {
    throw new IoError(
      ErrorCode.CorruptFile,
      `not an abl-audit report this version can read: schema ${JSON.stringify(schema ?? null)}, expected "${REPORT_SCHEMA}"`,
      { location: { file: path } },
    );
  }
  const upgraded = upgradeReport(parsed as Record<string, unknown>);
  const errors: string[] = [];
  if (!isAuditReport(upgraded, { errors })) {
    const shown = errors.slice(0, 5).join('; ') + (errors.length > 5 ? `; … (${errors.length} in all)` : '');
    throw new IoError(ErrorCode.CorruptFile, `report.json is not a valid report: ${shown}`, {
      location: { file: path },
    });
  }
  return { report: measuredNaN(upgraded as unknown as StoredAuditReport), outDir: folder };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fills what older reports lack, wherever the report has the object to fill: outputs.html (before
 * report.html existed), the guard's retry fields (before retries: never retried, tolerated maxDrop),
 * isolation.minStandout and figures (none kept), unlearning.removal (`unlearn`, the only way before
 * it); from report@1, the verdict (null: not made), the
 * review band (empty) and the detection section (null); from report@1 and @2, the source rollup (null). The result is checked against the schema
 * after.
 */
function upgradeReport(report: Json): Json {
  const out: Json = { ...report, schema: REPORT_SCHEMA, figures: report.figures ?? null };
  if (report.schema === BEFORE_VERDICTS) upgradeToVerdicts(report, out);
  if (report.schema === BEFORE_VERDICTS || report.schema === BEFORE_SOURCES) upgradeToSources(out);
  if (isRecord(out.outputs)) out.outputs = { ...out.outputs, html: out.outputs.html ?? HTML_REPORT_NAME };
  if (isRecord(report.isolation)) {
    out.isolation = {
      ...report.isolation,
      minStandout: report.isolation.minStandout ?? STANDOUT_BEFORE_RECORDED,
    };
  }
  const unlearning = report.unlearning;
  if (isRecord(unlearning) && isRecord(unlearning.guard) && Array.isArray(unlearning.epochs)) {
    const guard = unlearning.guard;
    out.unlearning = {
      ...unlearning,
      removal: unlearning.removal ?? 'unlearn',
      epochs: unlearning.epochs.map((e: unknown) =>
        isRecord(e)
          ? { ...e, retried: e.retried ?? false, accuracyTolerance: e.accuracyTolerance ?? guard.maxDrop }
          : e,
      ),
      guard: { ...guard, retries: guard.retries ?? 0, maxRetries: guard.maxRetries ?? 0 },
    };
  }
  return out;
}

/** report@1 → @2: no verdict was made, no row was set aside for review. */
function upgradeToVerdicts(report: Json, out: Json): void {
  out.detection = null;
  if (isRecord(report.summary)) {
    out.summary = { ...report.summary, review: 0, verdict: null, flaggedClasses: [] };
  }
  if (isRecord(report.outputs)) out.outputs = { ...report.outputs, review: [] };
  const data = report.data;
  if (isRecord(data) && Array.isArray(data.perClass) && Array.isArray(data.perSource)) {
    const withReview = (e: unknown) => (isRecord(e) ? { ...e, review: 0 } : e);
    out.data = {
      ...data,
      perClass: data.perClass.map(withReview),
      perSource: data.perSource.map(withReview),
    };
  }
}

/** report@2 → @3: no source was rolled up or named. */
function upgradeToSources(out: Json): void {
  out.sources = null;
  if (isRecord(out.summary)) out.summary = { ...out.summary, standoutSource: null };
  if (isRecord(out.outputs)) out.outputs = { ...out.outputs, sources: null };
}

/** JSON writes a NaN measure as null: the report's types say number, so it is NaN again. */
function measuredNaN(report: StoredAuditReport): StoredAuditReport {
  const n = (v: number | null) => v ?? Number.NaN;
  const q = (x: { median: number; q10: number; q90: number }) => ({
    median: n(x.median),
    q10: n(x.q10),
    q90: n(x.q90),
  });
  const { guard } = report.unlearning;
  return {
    ...report,
    isolation: {
      ...report.isolation,
      epochsDetail: report.isolation.epochsDetail.map((e) => ({
        ...e,
        meanObjective: n(e.meanObjective),
        isolated: q(e.isolated),
        kept: q(e.kept),
      })),
    },
    unlearning: {
      ...report.unlearning,
      epochs: report.unlearning.epochs.map((e) => ({
        ...e,
        guardAccuracy: n(e.guardAccuracy),
        isolatedLoss: n(e.isolatedLoss),
        accuracyTolerance: n(e.accuracyTolerance),
      })),
      guard: { ...guard, initialAccuracy: n(guard.initialAccuracy), finalAccuracy: n(guard.finalAccuracy) },
    },
  };
}
