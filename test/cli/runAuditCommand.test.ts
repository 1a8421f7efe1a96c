import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createCliOutput, type LogFormat } from '../../src/cli/output.js';
import { runAuditForCli } from '../../src/cli/runAuditCommand.js';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../src/config/auditConfig.js';
import type { AuditHooks } from '../../src/pipeline/runAudit.js';

// How `audit` and `run` print an audit's outcome, without running one: runAudit is replaced by a stub
// that logs, shows progress and returns a report with one failed gate. The real audit's exit code 3 is
// tested in test/integration/audit.test.ts.
vi.mock('../../src/pipeline/runAudit.js', () => ({
  runAudit: async (_config: AuditConfig, hooks: AuditHooks) => {
    hooks.onEvent?.({ type: 'phase-started', phase: 'isolation' });
    hooks.onEvent?.({ type: 'isolation-epoch', epoch: 1, epochs: 1, objective: 0.5 });
    const bar = hooks.progress?.('quarantine', 10);
    bar?.update(10);
    bar?.stop();
    return {
      reportPath: '/tmp/out/report.json',
      report: {
        status: 'gate-failed',
        summary: {
          rows: 10,
          quarantined: 1,
          quarantinedFraction: 0.1,
          review: 0,
          verdict: 'poison-found',
          flaggedClasses: [0],
          suspectedTargetClass: 0,
          suspectedTargetClassName: null,
          cleanAccuracy: null,
          attackSuccessRate: null,
        },
        detection: null,
        isolation: { suspectedTarget: { label: 0, name: null, share: 1, lift: 10 }, groundTruth: null },
        metrics: { afterIsolation: {}, cleanedModel: {} },
        unlearning: { guard: { stopped: false } },
        outputs: { model: 'model', html: 'report.html' },
        gates: [
          {
            name: 'fail_if_quarantine_fraction_above',
            threshold: 0.05,
            value: 0.1,
            passed: false,
            message: 'fail_if_quarantine_fraction_above: 10.00% > 5.00%',
          },
        ],
      },
    };
  },
}));

async function audit(format: LogFormat, quiet = false) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (b: Buffer) => out.push(b.toString()));
  stderr.on('data', (b: Buffer) => err.push(b.toString()));
  const output = createCliOutput({ stdout, stderr, quiet, format });
  const config: AuditConfig = { ...AUDIT_DEFAULTS, train: 'x.parquet', out: '/tmp/out' };
  const code = await runAuditForCli(config, { output, resume: false });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('runAuditForCli', () => {
  it('text: the summary on stdout, stage messages and the failed gate on stderr, exit code 3', async () => {
    const r = await audit('text');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('audited 10 rows: 1 quarantined (10.00%)');
    expect(r.stdout).toContain('gate FAILED: fail_if_quarantine_fraction_above: 10.00% > 5.00%');
    expect(r.stdout).toContain('open the report: /tmp/out/report.html');
    expect(r.stderr).toContain('isolation epoch 1/1: LGA objective 0.5000\n');
    expect(r.stderr).not.toContain('phase-started');
    expect(r.stderr).toMatch(/gate failed: fail_if_quarantine_fraction_above: 10\.00% > 5\.00%\n$/);
  });

  it('text --quiet: no stage messages, the failed gate still printed', async () => {
    const r = await audit('text', true);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('gate failed: fail_if_quarantine_fraction_above: 10.00% > 5.00%\n');
  });

  it('json: the result has status, exit code, summary, gates and report path; the gate is also a warning', async () => {
    const r = await audit('json');
    expect(r.code).toBe(3);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      event: 'result',
      status: 'gate-failed',
      exitCode: 3,
      summary: { rows: 10, quarantined: 1 },
      gates: [{ name: 'fail_if_quarantine_fraction_above', passed: false }],
      report: '/tmp/out/report.json',
      html: '/tmp/out/report.html',
    });
    const events = r.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => `${e.level}/${e.event}`)).toEqual([
      'info/log',
      'info/log',
      'info/progress',
      'warn/log',
    ]);
    // Phase starts reach JSON logs only; every audit event carries its type and fields.
    expect(events[0]).toMatchObject({ message: 'phase-started', kind: 'phase-started', phase: 'isolation' });
    expect(events[1]).toMatchObject({
      message: 'isolation epoch 1/1: LGA objective 0.5000',
      kind: 'isolation-epoch',
      epoch: 1,
      objective: 0.5,
    });
    expect(events[2]).toMatchObject({ step: 'quarantine', done: 10, total: 10, unit: 'rows', final: true });
    expect(events[3]).toMatchObject({
      message: 'gate failed: fail_if_quarantine_fraction_above: 10.00% > 5.00%',
      gate: 'fail_if_quarantine_fraction_above',
    });
  });
});
