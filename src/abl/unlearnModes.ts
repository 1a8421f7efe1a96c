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

/**
 * Where the cleaned model starts from:
 * - `unlearn`: the isolation model, trained on with the unlearning schedule (the paper's way; the
 *   isolation model already knows the data, so it is quick, but LGA held its loss above γ and it
 *   starts behind a plainly trained model);
 * - `retrain`: a fresh model trained the way `abl-audit train` trains (Adam, cosine schedule) on the
 *   trusted rows alone, with no ascent: drop the quarantine and retrain;
 * - `retrain-unlearn`: the same fresh model and training, ascending on the quarantined rows in every
 *   step (joint mode) or after fine-tuning (reference mode).
 */
export const REMOVAL_MODES = ['unlearn', 'retrain', 'retrain-unlearn'] as const;

/** One of {@link REMOVAL_MODES}. */
export type RemovalMode = (typeof REMOVAL_MODES)[number];
