import { UsageError } from '../errors.js';
import { type BadnetsTriggerOptions, badnetsTrigger } from './badnets.js';
import { type BlendTriggerOptions, blendTrigger } from './blend.js';
import { type SigTriggerOptions, sigTrigger } from './sig.js';
import { type TrojanTriggerOptions, trojanTrigger } from './trojan.js';
import { ATTACK_NAMES, type Trigger } from './types.js';
import { type WanetTriggerOptions, wanetTrigger } from './wanet.js';

/** A BadNets attack: {@link BadnetsTriggerOptions} plus the run's seed (unused: the patch is fixed). */
export interface BadnetsSpec extends BadnetsTriggerOptions {
  readonly attack: 'badnets';
  readonly seed: number;
}

/** A Blended attack: {@link BlendTriggerOptions}, whose seed draws the default noise pattern. */
export interface BlendSpec extends BlendTriggerOptions {
  readonly attack: 'blend';
}

/** A SIG attack: {@link SigTriggerOptions} plus the run's seed (unused: the stripes are fixed). */
export interface SigSpec extends SigTriggerOptions {
  readonly attack: 'sig';
  readonly seed: number;
}

/** A Trojan-style attack: {@link TrojanTriggerOptions} plus the run's seed (unused: the pattern is fixed). */
export interface TrojanSpec extends TrojanTriggerOptions {
  readonly attack: 'trojan';
  readonly seed: number;
}

/** A WaNet attack: {@link WanetTriggerOptions}, whose seed draws the warp (and, +1, the noise mode's jitter). */
export interface WanetSpec extends WanetTriggerOptions {
  readonly attack: 'wanet';
}

/** Everything needed to build any trigger, told apart by `attack`. Every variant carries a `seed`. */
export type AttackSpec = BadnetsSpec | BlendSpec | SigSpec | TrojanSpec | WanetSpec;

/**
 * Builds the trigger an {@link AttackSpec} describes.
 *
 * <span class="informal">One entry point for the `poison` command: it parses its flags into a single
 * object and gets a {@link Trigger} back, with each attack's options validated by that attack's own
 * factory.</span>
 *
 * @example
 * ```ts
 * const trigger = createTrigger({ attack: 'blend', alpha: 0.2, seed: 42 });
 * ```
 * @param spec - the attack's name in `attack`, its options, and the seed.
 * @returns the trigger.
 * @throws UsageError when `attack` is not a known attack (the message lists the valid names), the seed is
 *   not an integer, or, from the attack's factory, when an option is out of range.
 * @see ATTACK_NAMES
 */
export function createTrigger(spec: AttackSpec): Trigger {
  // Checked for every attack, used or not, so that a run's recorded seed is always a valid one.
  if (!Number.isSafeInteger(spec.seed)) {
    throw new UsageError(`attack seed must be an integer, got ${spec.seed}`);
  }
  switch (spec.attack) {
    case 'badnets':
      return badnetsTrigger(spec);
    case 'blend':
      return blendTrigger(spec);
    case 'sig':
      return sigTrigger(spec);
    case 'trojan':
      return trojanTrigger(spec);
    case 'wanet':
      return wanetTrigger(spec);
    default: {
      // Reached only when an unchecked value (parsed JSON, a cast) slipped past the type.
      const unknown: never = spec;
      const name = (unknown as { attack?: unknown }).attack;
      throw new UsageError(`unknown attack '${String(name)}'; expected one of ${ATTACK_NAMES.join(', ')}`);
    }
  }
}
