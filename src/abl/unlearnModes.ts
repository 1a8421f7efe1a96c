/**
 * How the cleaned model is made after isolation:
 * - `joint`: the paper's global gradient ascent, `E_clean[ℓ] − E_isolated[ℓ]` in every step: each
 *   clean batch carries a share of isolated rows to ascend on, so even an isolated set smaller than one
 *   batch is unlearned in every step of every epoch;
 * - `reference`: the reference code's sequence: fine-tune on the clean part, then unlearn the isolated
 *   rows alone (minimise −ℓ at a small learning rate; the first unlearning epoch only evaluates).
 *
 * <span class="informal">Its own module, free of TensorFlow.js, so that the command line can list the
 * modes in its help and validate `--unlearn-mode` without loading the training code.</span>
 */
export const UNLEARN_MODES = ['joint', 'reference'] as const;

/** One of {@link UNLEARN_MODES}. */
export type UnlearnMode = (typeof UNLEARN_MODES)[number];
