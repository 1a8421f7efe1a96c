import { describe, expect, it } from 'vitest';
import { describeAuditEvent } from '../../../src/report/auditEvents.js';
import { sampleReport } from '../../helpers/sampleReport.js';

const epoch = sampleReport().unlearning.epochs[0];
if (!epoch) throw new Error('the sample report has an unlearning epoch');

describe('describeAuditEvent', () => {
  it('words each event as the command line prints it', () => {
    expect(
      describeAuditEvent({
        type: 'dataset-read',
        file: 'a.parquet',
        rows: 30,
        shape: { height: 28, width: 28, channels: 1 },
        classes: 10,
      }),
    ).toBe('read 30 rows of a.parquet (28×28×1, 10 classes)');
    expect(describeAuditEvent({ type: 'isolation-epoch', epoch: 1, epochs: 2, objective: 0.51 })).toBe(
      'isolation epoch 1/2: LGA objective 0.5100',
    );
    expect(describeAuditEvent({ type: 'resumed', phase: 'unlearning', epochsDone: 3 })).toBe(
      'resuming from the checkpoint after unlearning epoch 3',
    );
    expect(
      describeAuditEvent({
        type: 'quarantined',
        quarantined: 30,
        review: 4,
        verdict: 'poison-found',
        flagged: [0],
        rows: 3000,
        score: 'target-class',
        suspect: { label: 0, share: 0.9 },
      }),
    ).toBe(
      'verdict: poison-found (class 0); quarantined 30 of 3000 rows, 4 for review (score target-class); suspected target class 0 (90% of the quarantine)',
    );
    expect(
      describeAuditEvent({
        type: 'quarantined',
        quarantined: 30,
        review: 0,
        verdict: 'no-poison-found',
        flagged: [],
        rows: 3000,
        score: 'final-loss',
        suspect: null,
      }),
    ).toBe('verdict: no-poison-found; quarantined 30 of 3000 rows (score final-loss)');
    expect(describeAuditEvent({ type: 'note', message: 'backend: wasm' })).toBe('backend: wasm');
    expect(describeAuditEvent({ type: 'nothing-isolated' })).toBe(
      'nothing was quarantined, so nothing is unlearned: the cleaned model trains on every row',
    );
  });

  it('words an unlearning epoch with its guard measures, and why it was rolled back', () => {
    expect(describeAuditEvent({ type: 'unlearning-epoch', record: epoch, epochs: 4 })).toBe(
      'unlearning epoch 1/4 (joint): held-out accuracy 80.00%, isolated-row loss 7.00, suspect rows predicted as the target 20.0%',
    );
    expect(
      describeAuditEvent({ type: 'unlearning-epoch', record: epoch, epochs: 4, retraining: true }),
    ).toMatch(/^retraining epoch 1\/4 \(joint\): held-out accuracy 80\.00%/);
    const tested = { ...epoch, cleanAccuracy: 0.85, attackSuccessRate: 0.01 };
    expect(describeAuditEvent({ type: 'unlearning-epoch', record: tested, epochs: 4 })).toContain(
      ', clean accuracy 85.00%, attack success 1.00%',
    );
    const rolledBack = { ...tested, rolledBack: true, retried: true, stopReason: 'accuracy-drop' as const };
    const line = describeAuditEvent({ type: 'unlearning-epoch', record: rolledBack, epochs: 4 });
    // After a roll-back the test sets measured the restored model: left out of the line.
    expect(line).not.toContain('clean accuracy');
    expect(line).toContain(
      '— held-out accuracy fell past the guard: rolled back; trying the epoch again at half the learning rate (0.00250)',
    );
  });

  it('leaves phase starts and ends to machines', () => {
    expect(describeAuditEvent({ type: 'phase-started', phase: 'read' })).toBeNull();
    expect(describeAuditEvent({ type: 'phase-finished', phase: 'read', seconds: 1 })).toBeNull();
  });
});
