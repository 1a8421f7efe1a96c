import { describe, expect, it } from 'vitest';
import type { GatesConfig } from '../../../src/config/auditConfig.js';
import { evaluateGates, type GateValues } from '../../../src/report/evaluateGates.js';

const NO_GATES: GatesConfig = {
  failIfQuarantineFractionAbove: null,
  failIfAttackSuccessAbove: null,
  failIfCleanAccuracyBelow: null,
  failIfPoisonFound: null,
  failIfSourceQuarantineAbove: null,
};
const VALUES: GateValues = { quarantinedFraction: 0.01, attackSuccessRate: 0.1, cleanAccuracy: 0.9 };

describe('evaluateGates', () => {
  it('has no entry for a gate without a threshold', () => {
    expect(evaluateGates(NO_GATES, VALUES)).toEqual([]);
    expect(
      evaluateGates(NO_GATES, { quarantinedFraction: 1, attackSuccessRate: null, cleanAccuracy: null }),
    ).toEqual([]);
  });

  describe('fail_if_quarantine_fraction_above', () => {
    const gates = { ...NO_GATES, failIfQuarantineFractionAbove: 0.05 };
    const at = (quarantinedFraction: number) => evaluateGates(gates, { ...VALUES, quarantinedFraction });

    it('passes at and below the threshold', () => {
      expect(at(0.05)).toEqual([
        {
          name: 'fail_if_quarantine_fraction_above',
          threshold: 0.05,
          value: 0.05,
          passed: true,
          message: 'fail_if_quarantine_fraction_above: 5.00% ≤ 5.00%',
        },
      ]);
      expect(at(0)[0]?.passed).toBe(true);
    });

    it('fails just above the threshold', () => {
      const [gate] = at(0.0501);
      expect(gate?.passed).toBe(false);
      expect(gate?.value).toBe(0.0501);
      expect(gate?.message).toBe('fail_if_quarantine_fraction_above: 5.01% > 5.00%');
    });
  });

  describe('fail_if_attack_success_above', () => {
    const gates = { ...NO_GATES, failIfAttackSuccessAbove: 0.2 };
    const at = (attackSuccessRate: number | null) => evaluateGates(gates, { ...VALUES, attackSuccessRate });

    it('passes at the threshold and fails above it', () => {
      const [ok] = at(0.2);
      expect(ok).toMatchObject({
        name: 'fail_if_attack_success_above',
        threshold: 0.2,
        value: 0.2,
        passed: true,
      });
      expect(ok?.message).toBe('fail_if_attack_success_above: 20.00% ≤ 20.00%');
      const [bad] = at(0.2001);
      expect(bad?.passed).toBe(false);
      expect(bad?.message).toBe('fail_if_attack_success_above: 20.01% > 20.00%');
    });

    it('fails, saying what is missing, when there is no attack success rate', () => {
      expect(at(null)).toEqual([
        {
          name: 'fail_if_attack_success_above',
          threshold: 0.2,
          value: null,
          passed: false,
          message: 'fail_if_attack_success_above: cannot be checked without a backdoor test set',
        },
      ]);
    });

    it('fails a threshold of 0 on any attack success at all', () => {
      const gates0 = { ...NO_GATES, failIfAttackSuccessAbove: 0 };
      expect(evaluateGates(gates0, { ...VALUES, attackSuccessRate: 0 })[0]?.passed).toBe(true);
      expect(evaluateGates(gates0, { ...VALUES, attackSuccessRate: 1e-6 })[0]?.passed).toBe(false);
    });
  });

  describe('fail_if_clean_accuracy_below', () => {
    const gates = { ...NO_GATES, failIfCleanAccuracyBelow: 0.85 };
    const at = (cleanAccuracy: number | null) => evaluateGates(gates, { ...VALUES, cleanAccuracy });

    it('passes at and above the threshold', () => {
      const [ok] = at(0.85);
      expect(ok).toMatchObject({
        name: 'fail_if_clean_accuracy_below',
        threshold: 0.85,
        value: 0.85,
        passed: true,
      });
      expect(ok?.message).toBe('fail_if_clean_accuracy_below: 85.00% ≥ 85.00%');
      expect(at(1)[0]?.passed).toBe(true);
    });

    it('fails just below the threshold', () => {
      const [bad] = at(0.8499);
      expect(bad?.passed).toBe(false);
      expect(bad?.message).toBe('fail_if_clean_accuracy_below: 84.99% < 85.00%');
    });

    it('fails, saying what is missing, when there is no clean accuracy', () => {
      const [gate] = at(null);
      expect(gate).toMatchObject({ name: 'fail_if_clean_accuracy_below', value: null, passed: false });
      expect(gate?.message).toBe('fail_if_clean_accuracy_below: cannot be checked without a test set');
    });
  });

  it('reports every configured gate, in a fixed order, each on its own value', () => {
    const gates: GatesConfig = {
      failIfQuarantineFractionAbove: 0.05,
      failIfAttackSuccessAbove: 0.2,
      failIfCleanAccuracyBelow: 0.85,
      failIfPoisonFound: null,
      failIfSourceQuarantineAbove: null,
    };
    const out = evaluateGates(gates, {
      quarantinedFraction: 0.1,
      attackSuccessRate: 0.05,
      cleanAccuracy: null,
    });
    expect(out.map((g) => [g.name, g.passed])).toEqual([
      ['fail_if_quarantine_fraction_above', false],
      ['fail_if_attack_success_above', true],
      ['fail_if_clean_accuracy_below', false],
    ]);
    // Only the configured ones.
    const two = evaluateGates({ ...gates, failIfAttackSuccessAbove: null }, VALUES);
    expect(two.map((g) => g.name)).toEqual([
      'fail_if_quarantine_fraction_above',
      'fail_if_clean_accuracy_below',
    ]);
    expect(two.every((g) => g.passed)).toBe(true);
  });

  describe('fail_if_source_quarantine_above', () => {
    const gates: GatesConfig = { ...NO_GATES, failIfSourceQuarantineAbove: 0.05 };
    const values = (rates: [string, number][]) => ({
      ...VALUES,
      sourceQuarantineRates: rates.map(([source, rate]) => ({ source, rate })),
    });

    it('fails naming every source above the threshold, worst first', () => {
      expect(
        evaluateGates(
          gates,
          values([
            ['vendor_a', 0.01],
            ['vendor_c', 0.07],
            ['vendor_b', 0.3],
          ]),
        ),
      ).toEqual([
        {
          name: 'fail_if_source_quarantine_above',
          threshold: 0.05,
          value: 0.3,
          passed: false,
          message: 'fail_if_source_quarantine_above: source vendor_b 30.00%, source vendor_c 7.00% > 5.00%',
        },
      ]);
    });

    it('passes at the threshold, naming the largest source', () => {
      const [gate] = evaluateGates(
        gates,
        values([
          ['a', 0.05],
          ['b', 0.01],
        ]),
      );
      expect(gate).toMatchObject({
        passed: true,
        value: 0.05,
        message: 'fail_if_source_quarantine_above: largest, source a, 5.00% ≤ 5.00%',
      });
    });

    it('is no gate when unset', () => {
      expect(evaluateGates(NO_GATES, values([['a', 0.9]]))).toEqual([]);
    });
  });

  describe('fail_if_poison_found', () => {
    const gates: GatesConfig = { ...NO_GATES, failIfPoisonFound: true };
    const values = (verdict: string, flaggedClasses: number[]) => ({
      quarantinedFraction: 0,
      attackSuccessRate: null,
      cleanAccuracy: null,
      verdict: { verdict, flaggedClasses },
    });

    it('fails on poison-found, naming the classes', () => {
      expect(evaluateGates(gates, values('poison-found', [0, 3]))).toEqual([
        {
          name: 'fail_if_poison_found',
          threshold: 0,
          value: 2,
          passed: false,
          message: 'fail_if_poison_found: poison found in classes 0, 3',
        },
      ]);
    });

    it('passes on no-poison-found and inconclusive, saying which', () => {
      for (const verdict of ['no-poison-found', 'inconclusive']) {
        const [gate] = evaluateGates(gates, values(verdict, []));
        expect(gate).toMatchObject({
          passed: true,
          value: 0,
          message: `fail_if_poison_found: verdict ${verdict}`,
        });
      }
    });

    it('is no gate when false or unset', () => {
      expect(evaluateGates({ ...NO_GATES, failIfPoisonFound: false }, values('poison-found', [1]))).toEqual(
        [],
      );
      expect(evaluateGates(NO_GATES, values('poison-found', [1]))).toEqual([]);
    });
  });
});
