import { AUDIT_DEFAULTS, type AuditDefaults } from './auditConfig.js';

/** The presets `--preset` and a pipeline file's `preset:` name. */
export const PRESET_NAMES = ['default', 'paper'] as const;

/** One of {@link PRESET_NAMES}. */
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * The paper's ABL as published (Li et al., 2021, every experiment): T_te = 20 isolation epochs of LGA
 * in the paper's per-example form, γ = 0.5, the lowest 1% of final losses isolated, then global
 * gradient ascent (joint mode) from the isolation model, with none of abl-audit's additions: no
 * guards (the accuracy guard at 0.99 never fires; no probe, no class guard, no retries), no
 * distrusted rows, no trigger filter. Unlearning runs 20 epochs, not the paper's 80 (T = 100), so a
 * CPU run stays within minutes; the model is abl-audit's (SmallCNN by default), not the paper's
 * ResNet/WRN, and joint mode descends anchor rows of the target class beside the ascended rows.
 */
const PAPER: AuditDefaults = {
  ...AUDIT_DEFAULTS,
  preset: 'paper',
  isolation: { epochs: 20, gamma: 0.5, lga: 'per-example', ratio: 0.01, score: 'final-loss' },
  unlearning: {
    ...AUDIT_DEFAULTS.unlearning,
    removal: 'unlearn',
    mode: 'joint',
    epochs: 20,
    learningRate: null,
    maxAccuracyDrop: 0.99,
    maxProbeRise: null,
    maxTargetClassDrop: null,
    guardRetries: 0,
    distrustTargetQuantile: 0,
    distrustLoss: null,
    triggerFilter: false,
  },
};

/**
 * The defaults a preset starts from; flags and pipeline keys given explicitly replace them.
 *
 * @example
 * ```ts
 * const config = { ...presetDefaults('paper'), train: 'data/train.parquet', out: 'out/paper' };
 * ```
 * @param name - `default` (abl-audit's defaults, {@link AUDIT_DEFAULTS}) or `paper` (the paper's ABL).
 * @returns every parameter but the paths.
 */
export function presetDefaults(name: PresetName): AuditDefaults {
  return name === 'paper' ? PAPER : AUDIT_DEFAULTS;
}
