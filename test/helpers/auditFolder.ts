/**
 * Everything a completed audit leaves in its output folder, sorted: the outputs and the folder's
 * marker, and nothing else (no staging, journal, lock or checkpoint). Written out here, not taken from
 * the source, so that a change to what an audit leaves behind is a change to this list.
 */
export const COMPLETED_AUDIT_FOLDER = [
  '.abl-audit-output.json',
  'clean',
  'model',
  'quarantine',
  'report.html',
  'report.json',
  'review',
  'scores.parquet',
  'sources.parquet',
] as const;
