import type { ReportGate } from './auditReport.js';

/** Gates: conditions under which a run fails with exit code 3 after writing its outputs (null = no gate). */
export interface GateThresholds {
  /** Fail when more than this share of rows is quarantined. */
  readonly failIfQuarantineFractionAbove: number | null;
  /** Fail when the cleaned model's attack success rate (needs a backdoor test set) is above this. */
  readonly failIfAttackSuccessAbove: number | null;
  /** Fail when the cleaned model's clean accuracy (needs a test set) is below this. */
  readonly failIfCleanAccuracyBelow: number | null;
  /** Fail when the verdict is `poison-found` (false or null: no gate). */
  readonly failIfPoisonFound: boolean | null;
  /** Fail when any one upstream source has more than this share of its rows quarantined. */
  readonly failIfSourceQuarantineAbove: number | null;
}

/** The measured values gates are checked against. */
export interface GateValues {
  readonly quarantinedFraction: number;
  readonly attackSuccessRate: number | null;
  readonly cleanAccuracy: number | null;
  /** The audit's verdict and the classes it flagged. */
  readonly verdict?: { readonly verdict: string; readonly flaggedClasses: readonly number[] } | null;
  /** Each source's quarantined share of its own rows. */
  readonly sourceQuarantineRates?: readonly { readonly source: string; readonly rate: number }[] | null;
}

/**
 * Checks a pipeline's gates. A gate whose value could not be measured (an attack-success gate without
 * a backdoor test set) fails, saying why: a gate that silently passes would be worse than none.
 *
 * @param gates - the configured thresholds (null = no gate).
 * @param values - what the audit measured.
 * @returns one entry per configured gate.
 */
export function evaluateGates(gates: GateThresholds, values: GateValues): ReportGate[] {
  const out: ReportGate[] = [];
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const check = (
    name: string,
    threshold: number | null,
    value: number | null,
    failsWhen: 'above' | 'below',
    needs: string,
  ) => {
    if (threshold === null) return;
    if (value === null) {
      out.push({
        name,
        threshold,
        value,
        passed: false,
        message: `${name}: cannot be checked without ${needs}`,
      });
      return;
    }
    const passed = failsWhen === 'above' ? value <= threshold : value >= threshold;
    out.push({
      name,
      threshold,
      value,
      passed,
      message: `${name}: ${pct(value)} ${passed ? (failsWhen === 'above' ? '≤' : '≥') : failsWhen === 'above' ? '>' : '<'} ${pct(threshold)}`,
    });
  };
  check(
    'fail_if_quarantine_fraction_above',
    gates.failIfQuarantineFractionAbove,
    values.quarantinedFraction,
    'above',
    'data',
  );
  check(
    'fail_if_attack_success_above',
    gates.failIfAttackSuccessAbove,
    values.attackSuccessRate,
    'above',
    'a backdoor test set',
  );
  check(
    'fail_if_clean_accuracy_below',
    gates.failIfCleanAccuracyBelow,
    values.cleanAccuracy,
    'below',
    'a test set',
  );
  if (gates.failIfPoisonFound && values.verdict) {
    const { verdict, flaggedClasses } = values.verdict;
    const found = verdict === 'poison-found';
    out.push({
      name: 'fail_if_poison_found',
      threshold: 0,
      value: found ? flaggedClasses.length : 0,
      passed: !found,
      message: found
        ? `fail_if_poison_found: poison found in class${flaggedClasses.length > 1 ? 'es' : ''} ${flaggedClasses.join(', ')}`
        : `fail_if_poison_found: verdict ${verdict}`,
    });
  }
  const rates = values.sourceQuarantineRates;
  if (gates.failIfSourceQuarantineAbove !== null && rates) {
    const threshold = gates.failIfSourceQuarantineAbove;
    // Worst first (a stable sort: of equal rates, the first given).
    const sorted = [...rates].sort((a, b) => b.rate - a.rate);
    const worst = sorted[0];
    const over = sorted.filter((r) => r.rate > threshold);
    out.push({
      name: 'fail_if_source_quarantine_above',
      threshold,
      value: worst?.rate ?? 0,
      passed: over.length === 0,
      message:
        over.length > 0
          ? `fail_if_source_quarantine_above: ${over.map((r) => `source ${r.source} ${pct(r.rate)}`).join(', ')} > ${pct(threshold)}`
          : `fail_if_source_quarantine_above: ${worst ? `largest, source ${worst.source}, ${pct(worst.rate)}` : 'no source'} ≤ ${pct(threshold)}`,
    });
  }
  return out;
}
