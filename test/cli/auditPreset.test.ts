import { describe, expect, it, vi } from 'vitest';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../src/config/auditConfig.js';
import { presetDefaults } from '../../src/config/presets.js';
import { runCli } from './runCli.js';

// What `audit`'s flags make of the configuration, without running an audit: the audit is replaced by a
// stub that keeps the configuration it was given.
const seen: AuditConfig[] = [];
vi.mock('../../src/cli/runAuditCommand.js', () => ({
  runAuditForCli: async (config: AuditConfig) => {
    seen.push(config);
    return 0;
  },
}));

async function configOf(...flags: string[]): Promise<AuditConfig> {
  const run = await runCli('audit', 'data.parquet', '--out', 'out', ...flags);
  expect(run.code, run.stderr).toBe(0);
  const config = seen.pop();
  if (!config) throw new Error('the audit was not started');
  return config;
}

describe('audit --preset and --removal', () => {
  it('without a preset, the defaults', async () => {
    const config = await configOf();
    expect(config.preset).toBe('default');
    expect(config.isolation).toStrictEqual(AUDIT_DEFAULTS.isolation);
    expect(config.unlearning).toStrictEqual(AUDIT_DEFAULTS.unlearning);
  });

  it('--preset paper: the paper\u2019s settings, and the flags given explicitly replace them', async () => {
    const paper = presetDefaults('paper');
    const config = await configOf('--preset', 'paper', '--isolation-epochs', '3', '--removal', 'retrain');
    expect(config.preset).toBe('paper');
    expect(config.isolation).toStrictEqual({ ...paper.isolation, epochs: 3 });
    expect(config.unlearning).toStrictEqual({ ...paper.unlearning, removal: 'retrain' });
    expect(config.isolation).toMatchObject({ ratio: 0.01, lga: 'per-example', score: 'final-loss' });
  });

  it('--isolation-ratio adaptive takes the paper preset back to the adaptive quarantine', async () => {
    const config = await configOf('--preset', 'paper', '--isolation-ratio', 'adaptive');
    expect(config.isolation.ratio).toBeNull();
    expect(config.isolation.epochs).toBe(20);
  });

  it('refuses an --isolation-ratio that is neither a share in (0, 1) nor adaptive', async () => {
    const run = await runCli('audit', 'data.parquet', '--out', 'out', '--isolation-ratio', '2');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--isolation-ratio');
  });

  it('--removal and --isolation-ratio on the defaults', async () => {
    const config = await configOf('--removal', 'retrain-unlearn', '--isolation-ratio', '0.02');
    expect(config.unlearning).toStrictEqual({ ...AUDIT_DEFAULTS.unlearning, removal: 'retrain-unlearn' });
    expect(config.isolation.ratio).toBe(0.02);
  });
});
