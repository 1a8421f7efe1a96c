/**
 * The model architectures abl-audit can build, by the names pipelines and flags use.
 *
 * <span class="informal">Its own module, free of TensorFlow.js, so that the command line can list the
 * architectures in its help and validate `--model` without loading the model code.</span>
 */
export const ARCHITECTURES = ['small-cnn', 'resnet8', 'wrn-16-1', 'wrn-10-1'] as const;

/** One of {@link ARCHITECTURES}. */
export type Architecture = (typeof ARCHITECTURES)[number];
