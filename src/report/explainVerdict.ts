import type { ReportDetection } from './auditReport.js';

/**
 * The verdict in one sentence for people: what was found, and what a clean verdict does and does not
 * cover.
 *
 * @param d - the detection section, without its explanation.
 * @param nameOf - a class's name, when the data has names.
 * @returns the sentence.
 */
export function explainVerdict(
  d: Omit<ReportDetection, 'explanation'>,
  nameOf: (label: number) => string | null,
): string {
  const named = (label: number) => {
    const name = nameOf(label);
    return name ? `${label} (${name})` : String(label);
  };
  const list = (labels: readonly number[]) => labels.map(named).join(', ');
  if (d.verdict === 'poison-found') {
    const classes = d.flaggedClasses.length > 1 ? 'classes' : 'class';
    const slow = d.classes.filter((c) => c.call === 'flagged' && c.side === 'high').length;
    const mode =
      slow === 0
        ? 'one learned far faster than the rest of the class'
        : slow === d.flaggedClasses.length
          ? 'one the model keeps getting wrong, unlike any other class (rows whose label does not fit their image, as before a backdoor is learned)'
          : 'one unlike any other class (learned far faster, or kept wrong)';
    return `The rows of ${classes} ${list(d.flaggedClasses)} split into two modes, ${mode}, standing out from every other class: the signature of a backdoor's target class. The rows of that mode are quarantined${d.review > 0 ? `, and ${d.review} rows the split is unsure of are in review/` : ''}.`;
  }
  const weak = d.classes.filter((c) => c.call === 'weak').map((c) => c.label);
  if (d.verdict === 'inconclusive' && weak.length === 0) {
    return `Only ${d.judgedClasses} class${d.judgedClasses === 1 ? ' has' : 'es have'} the ${d.thresholds.minClassRows} rows a class needs to be judged, and classes can only be compared with each other from ${d.thresholds.minClasses} on: the audit cannot tell whether there is poison. Nothing was quarantined.`;
  }
  if (d.verdict === 'inconclusive') {
    return `Class ${list(weak)} shows some of a backdoor target's signature, not enough to quarantine any row. Audit again with more isolation epochs (--isolation-epochs), or look at that class's lowest-scored rows in scores.parquet.`;
  }
  return 'No class splits the way a backdoor target class does. This covers attacks the isolation model learns within its epochs (strong patches, at rates of a few percent or more); a blended, warped, clean-label or 1% attack may not show (see the README: what the audit catches).';
}
