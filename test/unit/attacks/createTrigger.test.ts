import { describe, expect, expectTypeOf, it } from 'vitest';
import { badnetsTrigger } from '../../../src/attacks/badnets.js';
import { blendTrigger } from '../../../src/attacks/blend.js';
import { type AttackSpec, createTrigger } from '../../../src/attacks/createTrigger.js';
import { sigTrigger } from '../../../src/attacks/sig.js';
import { trojanTrigger } from '../../../src/attacks/trojan.js';
import { ATTACK_NAMES, type AttackName, type Trigger } from '../../../src/attacks/types.js';
import { wanetTrigger } from '../../../src/attacks/wanet.js';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';
import { mulberry32, randomInt } from '../../../src/util/random.js';

const shape: ImageShape = { height: 28, width: 28, channels: 1 };
const rng = mulberry32(1);
const image = Uint8Array.from({ length: 784 }, () => randomInt(rng, 256));

describe('createTrigger', () => {
  it('builds each attack with its options, as its own factory does', () => {
    const cases: ReadonlyArray<readonly [AttackSpec, Trigger]> = [
      [
        { attack: 'badnets', patch: 'square', size: 4, position: 'top-left', margin: 2, seed: 0 },
        badnetsTrigger({ patch: 'square', size: 4, position: 'top-left', margin: 2 }),
      ],
      [{ attack: 'blend', alpha: 0.3, seed: 5 }, blendTrigger({ alpha: 0.3, seed: 5 })],
      [{ attack: 'sig', alpha: 0.1, frequency: 3, seed: 0 }, sigTrigger({ alpha: 0.1, frequency: 3 })],
      [{ attack: 'trojan', position: { x: 0, y: 0 }, seed: 0 }, trojanTrigger({ position: { x: 0, y: 0 } })],
      [{ attack: 'wanet', k: 3, s: 1, seed: 5 }, wanetTrigger({ k: 3, s: 1, seed: 5 })],
    ];
    for (const [spec, direct] of cases) {
      const t = createTrigger(spec);
      expect(t.name, spec.attack).toBe(spec.attack);
      expect(t.cleanLabel, spec.attack).toBe(direct.cleanLabel);
      expect(t.apply(image, shape), spec.attack).toEqual(direct.apply(image, shape));
    }
  });

  it('covers every attack name, with the clean-label ones marked', () => {
    const labels = Object.fromEntries(
      ATTACK_NAMES.map((attack) => [attack, createTrigger({ attack, seed: 1 } as AttackSpec).cleanLabel]),
    );
    expect(labels).toEqual({ badnets: false, blend: false, sig: true, trojan: false, wanet: false });
    expect(createTrigger({ attack: 'wanet', seed: 1, noise: true }).cleanLabel).toBe(true);
  });

  it('names the valid attacks when given an unknown one', () => {
    const spec = { attack: 'ssba', seed: 1 } as unknown as AttackSpec;
    expect(() => createTrigger(spec)).toThrow(UsageError);
    expect(() => createTrigger(spec)).toThrow(
      "unknown attack 'ssba'; expected one of badnets, blend, sig, trojan, wanet",
    );
  });

  it('rejects a non-integer seed for every attack, and passes option errors through', () => {
    expect(() => createTrigger({ attack: 'badnets', seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => createTrigger({ attack: 'sig', seed: Number.NaN })).toThrow(UsageError);
    expect(() => createTrigger({ attack: 'sig', alpha: 2, seed: 0 })).toThrow(/sig alpha/);
  });

  it('types each variant with its own options', () => {
    expectTypeOf(createTrigger).parameter(0).toEqualTypeOf<AttackSpec>();
    expectTypeOf<AttackSpec['attack']>().toEqualTypeOf<AttackName>();
    // Compile-time checks only: these builders are never called.
    // @ts-expect-error: every spec carries a seed.
    const noSeed = () => createTrigger({ attack: 'sig' });
    // @ts-expect-error: frequency belongs to sig, not badnets.
    const wrongOption = () => createTrigger({ attack: 'badnets', frequency: 3, seed: 0 });
    expect([noSeed, wrongOption]).toHaveLength(2);
  });
});
