import type { ReportImageShape, ReportUnlearnEpoch } from './auditReport.js';

/** The phases of an audit, in the order they run. */
export const AUDIT_PHASES = [
  'prepare',
  'read',
  'setup',
  'isolation',
  'rank',
  'quarantine',
  'unlearning',
  'export',
  'report',
] as const;

/** One of {@link AUDIT_PHASES}. */
export type AuditPhaseName = (typeof AUDIT_PHASES)[number];

/**
 * What an audit tells its caller while it runs: facts, not sentences. The command line words them
 * with {@link describeAuditEvent} (and writes them whole as JSON with `--log-format json`).
 */
export type AuditEvent =
  /** A line from a lower layer, already worded (the backend chosen, threads started). */
  | { readonly type: 'note'; readonly message: string }
  | { readonly type: 'phase-started'; readonly phase: AuditPhaseName }
  | { readonly type: 'phase-finished'; readonly phase: AuditPhaseName; readonly seconds: number }
  | {
      readonly type: 'dataset-read';
      readonly file: string;
      readonly rows: number;
      readonly shape: ReportImageShape;
      readonly classes: number;
    }
  | {
      readonly type: 'resumed';
      readonly phase: 'isolation' | 'unlearning';
      /** Epochs of that phase the checkpoint holds. */
      readonly epochsDone: number;
    }
  | { readonly type: 'nothing-to-resume' }
  | {
      readonly type: 'isolation-epoch';
      readonly epoch: number;
      readonly epochs: number;
      readonly objective: number;
    }
  | {
      readonly type: 'quarantined';
      readonly quarantined: number;
      /** Rows in the review band. */
      readonly review: number;
      /** `poison-found`, `no-poison-found` or `inconclusive`. */
      readonly verdict: string;
      /** Classes the evidence flagged, strongest first. */
      readonly flagged: readonly number[];
      readonly rows: number;
      readonly score: string;
      readonly suspect: { readonly label: number; readonly share: number } | null;
    }
  /** No class stood out: the isolated rows are left out of training but not unlearned. */
  | { readonly type: 'no-target' }
  /** Nothing was quarantined: the cleaned model trains on every row. */
  | { readonly type: 'nothing-isolated' }
  | {
      readonly type: 'unlearning-epoch';
      readonly record: ReportUnlearnEpoch;
      readonly epochs: number;
      /** True when the cleaned model is a fresh model retrained (`--removal retrain*`). */
      readonly retraining?: boolean;
    }
  | { readonly type: 'warning'; readonly message: string };

/** What each guard saw, for the log line of an epoch it rolled back. */
const GUARD_REASONS: Record<NonNullable<ReportUnlearnEpoch['stopReason']>, string> = {
  'accuracy-drop': 'held-out accuracy fell past the guard',
  'target-class-drop': "the suspected target class's own rows stopped being predicted as it",
  'backdoor-relearned': 'more suspect rows went back to the target (the backdoor was being relearned)',
  'loss-not-finite': 'the training loss became NaN or infinite',
};

const pct = (v: number, digits: number) => `${(v * 100).toFixed(digits)}%`;

/**
 * An audit event as one line for people, or null for events that only machines need (phase starts
 * and ends: the progress display already shows them).
 *
 * @example
 * ```ts
 * describeAuditEvent({ type: 'isolation-epoch', epoch: 1, epochs: 2, objective: 0.51 });
 * // 'isolation epoch 1/2: LGA objective 0.5100'
 * ```
 * @param event - the event.
 * @returns the line, or null.
 */
export function describeAuditEvent(event: AuditEvent): string | null {
  switch (event.type) {
    case 'note':
    case 'warning':
      return event.message;
    case 'phase-started':
    case 'phase-finished':
      return null;
    case 'dataset-read': {
      const { height, width, channels } = event.shape;
      return `read ${event.rows} rows of ${event.file} (${height}×${width}×${channels}, ${event.classes} classes)`;
    }
    case 'resumed':
      return `resuming from the checkpoint after ${event.phase} epoch ${event.epochsDone}`;
    case 'nothing-to-resume':
      return 'no checkpoint to resume from; starting from the beginning';
    case 'isolation-epoch':
      return `isolation epoch ${event.epoch}/${event.epochs}: LGA objective ${event.objective.toFixed(4)}`;
    case 'quarantined':
      return (
        `verdict: ${event.verdict}` +
        (event.flagged.length > 0
          ? ` (class${event.flagged.length > 1 ? 'es' : ''} ${event.flagged.join(', ')})`
          : '') +
        `; quarantined ${event.quarantined} of ${event.rows} rows` +
        (event.review > 0 ? `, ${event.review} for review` : '') +
        ` (score ${event.score})` +
        (event.suspect
          ? `; suspected target class ${event.suspect.label} (${(event.suspect.share * 100).toFixed(0)}% of the quarantine)`
          : '')
      );
    case 'nothing-isolated':
      return 'nothing was quarantined, so nothing is unlearned: the cleaned model trains on every row';
    case 'no-target':
      return 'no class stands out as a backdoor target: the isolated rows are left out of training but not unlearned (ascending on rows that may be clean only damages the model)';
    case 'unlearning-epoch':
      return unlearningEpochLine(event.record, event.epochs, event.retraining === true);
  }
}

function unlearningEpochLine(h: ReportUnlearnEpoch, epochs: number, retraining: boolean): string {
  return (
    `${retraining ? 'retraining' : 'unlearning'} epoch ${h.epoch}/${epochs} (${h.phase}): held-out accuracy ${pct(h.guardAccuracy, 2)}, isolated-row loss ${h.isolatedLoss.toFixed(2)}` +
    (h.probeTargetRate !== null
      ? `, suspect rows predicted as the target ${pct(h.probeTargetRate, 1)}`
      : '') +
    // After a roll-back the test sets measure the restored model, not the attempt: left out.
    (h.cleanAccuracy !== null && !h.rolledBack ? `, clean accuracy ${pct(h.cleanAccuracy, 2)}` : '') +
    (h.attackSuccessRate !== null && !h.rolledBack ? `, attack success ${pct(h.attackSuccessRate, 2)}` : '') +
    (h.stopReason === null ? '' : ` — ${GUARD_REASONS[h.stopReason]}: ${guardAction(h)}`)
  );
}

function guardAction(record: ReportUnlearnEpoch): string {
  if (!record.retried) return 'rolled back to the previous epoch and stopped';
  return `rolled back; trying the epoch again at half the learning rate (${(record.learningRate / 2).toPrecision(3)})`;
}
