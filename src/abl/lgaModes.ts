/**
 * Which form of local gradient ascent isolation trains with: `per-example`, the paper's
 * `mean_i sign(ℓ_i − γ)·ℓ_i`, or `batch`, the reference code's `sign(mean ℓ − γ)·mean ℓ`.
 *
 * <span class="informal">Its own module, free of TensorFlow.js, so that the command line can list the
 * modes in its help and validate `--lga` without loading the training code.</span>
 */
export const LGA_MODES = ['per-example', 'batch'] as const;

/** One of {@link LGA_MODES}. */
export type LgaMode = (typeof LGA_MODES)[number];
