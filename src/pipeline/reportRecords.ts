import type { UnlearnEpochRecord } from '../abl/unlearn.js';
import type { ReportModelMetrics, ReportUnlearnEpoch } from '../report/auditReport.js';
import type { TestSetMetrics } from '../train/scaffold/evaluateOnTestSets.js';
import type { EpochMetrics } from './auditRecords.js';

/**
 * Translations from what the stages record to what report.json says: the report owns its schema,
 * and the stages' records may change without changing it.
 */

/** A guard's measure in an epoch record, by the guard's name (null when the guard did not run). */
function measureOf(record: UnlearnEpochRecord, name: string): { value: number; tolerance: number } | null {
  return record.measures.find((m) => m.name === name) ?? null;
}

/**
 * One unlearning epoch as report.json records it.
 *
 * @param record - the unlearning stage's record.
 * @param metrics - the test-set measures after it.
 * @returns the report's epoch.
 */
export function toReportEpoch(
  record: UnlearnEpochRecord,
  metrics: EpochMetrics | undefined,
): ReportUnlearnEpoch {
  const accuracy = measureOf(record, 'accuracy');
  return {
    epoch: record.epoch,
    phase: record.phase,
    learningRate: record.learningRate,
    meanObjective: record.meanObjective,
    guardAccuracy: accuracy?.value ?? Number.NaN,
    probeTargetRate: measureOf(record, 'probe')?.value ?? null,
    targetClassAccuracy: measureOf(record, 'target-class')?.value ?? null,
    isolatedLoss: record.isolatedLoss,
    rolledBack: record.rolledBack,
    retried: record.retried,
    accuracyTolerance: accuracy?.tolerance ?? Number.NaN,
    newlyDistrusted: record.newlyDistrusted,
    stopReason: record.stopReason as ReportUnlearnEpoch['stopReason'],
    cleanAccuracy: metrics?.cleanAccuracy ?? null,
    attackSuccessRate: metrics?.attackSuccessRate ?? null,
  };
}

/**
 * A model's test-set measures as report.json records them.
 *
 * @param m - what was measured.
 * @param targetClass - the class whose own accuracy is reported (suspected, else given), if any.
 * @param targetGiven - whether the attack target came from the user.
 * @returns the report's metrics.
 */
export function toReportMetrics(
  m: TestSetMetrics,
  targetClass: number | null,
  targetGiven: boolean,
): ReportModelMetrics {
  const ca = m.accuracy;
  return {
    cleanAccuracy: ca && {
      value: ca.accuracy,
      rows: ca.total,
      perClass: ca.perClass.map((c) => ({ label: c.label, accuracy: c.accuracy, rows: c.total })),
      convention: 'all-classes',
    },
    targetClassAccuracy: ca && targetClass !== null ? (ca.perClass[targetClass]?.accuracy ?? null) : null,
    attackSuccessRate: m.attack && {
      value: m.attack.rate,
      rows: m.attack.total,
      target: m.attack.target,
      targetFrom: targetGiven ? 'given' : 'suspected',
      convention: 'triggered-non-target-rows',
    },
  };
}
