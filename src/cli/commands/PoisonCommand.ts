import { readFile } from 'node:fs/promises';
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import {
  ATTACK_NAMES,
  type AttackName,
  CORNERS,
  type PatchImage,
  type PatchPosition,
} from '../../attacks/types.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../../data/readLimits.js';
import { DataError, describeError, ErrorCode, IoError, UsageError } from '../../errors.js';
import type { PoisonOptions, PoisonSummary, TestPoisonSummary } from '../../poison/poisonDataset.js';
import { RATE_OF } from '../../poison/selectPoisonRows.js';
import { DatasetCommand } from '../DatasetCommand.js';

const isNumber = t.isNumber();

/** `abl-audit poison`: stamps a known backdoor onto clean data, with ground truth, to score audits. */
export class PoisonCommand extends DatasetCommand {
  static override paths = [['poison']];
  static override usage = Command.Usage({
    category: 'Red team',
    description: 'stamp a backdoor attack onto a clean dataset, with ground-truth columns',
    details: `
      Writes a copy of DATASET with every column and the row order kept, exactly round(rate x rows) rows triggered and, for dirty-label attacks, relabelled; plus \`poisoned\` (bool), \`label_original\` and \`attack\` (null for clean rows). These columns exist to score an audit; the audit never reads them.

      Eligible rows: all-to-one, rows not of the target class; all-to-all, every row (label -> label+1 mod K); clean-label SIG, rows of the target class (labels unchanged). Poisoned rows are drawn from the eligible rows only.

      \`--rate-of all\` (default) reads the rate as a share of all training rows, as the ABL reference code and BackdoorBench do: \`--rate 0.1\` on 60,000 rows poisons 6,000, and a rate that asks for more rows than are eligible is an error (SIG: at most the target class's share). \`--rate-of eligible\` reads it as a share of the eligible rows, the reading of earlier versions: round(rate x eligible) rows, 5,400 of the same 60,000 (9%) when 54,000 are not of the target class. The output line and the JSON result give the convention and the share of all rows poisoned.

      Attacks: \`badnets\` (a patch: the 3x3 black-and-white \`grid\`, a white \`square\`, or a PNG/JPEG file), \`blend\` ((1-a)x + a*pattern, random noise fixed by the seed or a PNG/JPEG file), \`sig\` (clean-label, (1-a)x + a*stripes), \`trojan\` (a fixed additive 3x3 pattern, saturating), \`wanet\` (a smooth warp, k=4, s=0.5; \`--cross-ratio 2\` adds its noise-mode rows).

      With \`--test\`, also writes the triggered test set for attack success rate: every test row whose true class is not the target, triggered, labelled with the target (all-to-all: every row, label+1 mod K).
    `,
    examples: [
      [
        'BadNets grid, 10% of all rows, target 0',
        '$0 poison data/train.parquet --attack badnets --rate 0.1 --target 0 --seed 1 --out data/badnets.parquet',
      ],
      [
        'Blend 10% with the matching test set',
        '$0 poison data/train.parquet --attack blend --rate 0.1 --seed 1 --out data/blend.parquet --test data/test.parquet --test-out data/blend-test.parquet',
      ],
      [
        'Clean-label SIG on half of the target class',
        '$0 poison data/train.parquet --attack sig --rate 0.5 --rate-of eligible --target 3 --seed 1 --out data/sig.parquet',
      ],
      [
        'WaNet with noise mode',
        '$0 poison data/train.parquet --attack wanet --rate 0.1 --cross-ratio 2 --seed 1 --out data/wanet.parquet',
      ],
    ],
  });

  input = Option.String({ name: 'dataset' });
  out = Option.String('--out', {
    required: true,
    description: 'Parquet file to write the poisoned training set to',
  });
  attack = Option.String('--attack', {
    required: true,
    description: `One of ${ATTACK_NAMES.join(', ')}`,
    validator: t.isEnum(ATTACK_NAMES),
  });
  rate = Option.String('--rate', {
    required: true,
    description:
      'Fraction of the rows to poison, in (0, 1): of all rows, or of the eligible ones (--rate-of)',
    validator: isNumber,
  });
  rateOf = Option.String('--rate-of', 'all', {
    description: 'What --rate is a share of: all rows (default, as BackdoorBench) or the eligible rows',
    validator: t.isEnum(RATE_OF),
  });
  target = Option.String('--target', '0', {
    description: 'Target class (default 0)',
    validator: t.cascade(isNumber, [t.isInteger(), t.isAtLeast(0)]),
  });
  seed = Option.String('--seed', '1', {
    description: 'Seed of the rows chosen and of random patterns (default 1)',
    validator: t.cascade(isNumber, [t.isInteger()]),
  });
  mode = Option.String('--mode', 'all-to-one', {
    description: 'all-to-one (default) or all-to-all',
    validator: t.isEnum(['all-to-one', 'all-to-all'] as const),
  });
  test = Option.String('--test', { description: 'Clean test set to make the triggered test set from' });
  testOut = Option.String('--test-out', {
    description: 'Parquet file for the triggered test set (with --test)',
  });
  patch = Option.String('--patch', {
    description: 'badnets: grid (default), square, or a PNG/JPEG patch file',
  });
  patchSize = Option.String('--patch-size', {
    description: 'badnets square: side in pixels (default 3)',
    validator: t.cascade(isNumber, [t.isInteger(), t.isAtLeast(1)]),
  });
  position = Option.String('--position', {
    description: `badnets/trojan: ${CORNERS.join(', ')}, or X,Y of the top-left pixel`,
  });
  margin = Option.String('--margin', {
    description: 'badnets/trojan: pixels between patch and corner',
    validator: t.cascade(isNumber, [t.isInteger(), t.isAtLeast(0)]),
  });
  alpha = Option.String('--alpha', {
    description: 'blend/sig: weight of the pattern (default 0.2)',
    validator: isNumber,
  });
  pattern = Option.String('--pattern', {
    description: "blend: PNG/JPEG pattern image of the data's size (default: seeded noise)",
  });
  frequency = Option.String('--frequency', {
    description: 'sig: stripe periods across the width (default 6)',
    validator: isNumber,
  });
  k = Option.String('--k', {
    description: 'wanet: control grid size (default 4)',
    validator: t.cascade(isNumber, [t.isInteger()]),
  });
  strength = Option.String('--strength', {
    description: 'wanet: warp strength s (default 0.5)',
    validator: isNumber,
  });
  crossRatio = Option.String('--cross-ratio', {
    description: 'wanet noise mode: cross rows per poisoned row (default 0, the paper uses 2)',
    validator: isNumber,
  });

  protected async run(): Promise<number> {
    if ((this.test === undefined) !== (this.testOut === undefined)) {
      throw new UsageError('--test and --test-out go together: give both or neither');
    }
    const options: PoisonOptions = {
      ...this.overrides(),
      attack: await this.attackSpec(),
      rate: this.rate,
      rateOf: this.rateOf,
      target: this.target,
      mode: this.mode,
      seed: this.seed,
      crossRatio: this.crossRatio,
    };
    const { poisonDataset, poisonTestSet } = await import('../../poison/poisonDataset.js');
    const progress = this.output.progress('poisoning', { unit: 'rows' });
    let train: PoisonSummary;
    try {
      train = await poisonDataset(this.input, this.out, {
        ...options,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.stop();
    }
    const lines = [
      `wrote ${train.output}: ${train.rows} rows, ${train.poisoned} poisoned = ${percent(train.poisonedShare)} of all rows ` +
        `(${rateReading(train)}; ${train.attack}, ${train.mode}, target ${train.target}, seed ${train.seed})` +
        `${train.cross ? `, ${train.cross} noise-mode cross rows` : ''}`,
    ];
    let test: TestPoisonSummary | null = null;
    if (this.test !== undefined && this.testOut !== undefined) {
      // The training set's class count: a test set's own largest label may be lower, and all-to-all
      // labels (label + 1 mod K) must agree between the two files.
      test = await poisonTestSet(this.test, this.testOut, { ...options, numClasses: train.numClasses });
      lines.push(
        `wrote ${test.output}: ${test.triggered} of ${test.rows} test rows triggered (${test.convention})`,
      );
    }
    this.output.result(lines.join('\n'), { train, test });
    return 0;
  }

  private async attackSpec(): Promise<PoisonOptions['attack']> {
    // Every attack-specific flag is checked against the attack's own list: a flag that an attack does
    // not use must be an error, not silently ignored, or a user would believe it changed the trigger.
    const given: Record<AttackFlag, unknown> = {
      '--patch': this.patch,
      '--patch-size': this.patchSize,
      '--position': this.position,
      '--margin': this.margin,
      '--alpha': this.alpha,
      '--pattern': this.pattern,
      '--frequency': this.frequency,
      '--k': this.k,
      '--strength': this.strength,
      '--cross-ratio': this.crossRatio,
    };
    const allowed: readonly AttackFlag[] = FLAGS_OF[this.attack];
    const stray = ATTACK_FLAGS.filter((f) => given[f] !== undefined && !allowed.includes(f));
    if (stray.length) {
      throw new UsageError(
        `${stray.join(', ')} do${stray.length === 1 ? 'es' : ''} not apply to --attack ${this.attack} ` +
          `(it takes ${allowed.join(', ')})`,
      );
    }
    switch (this.attack) {
      case 'badnets': {
        const patch =
          this.patch === undefined || this.patch === 'grid' || this.patch === 'square'
            ? this.patch
            : await readImage(this.patch, '--patch');
        return {
          attack: 'badnets',
          patch,
          size: this.patchSize,
          position: parsePosition(this.position),
          margin: this.margin,
        };
      }
      case 'blend':
        return {
          attack: 'blend',
          alpha: this.alpha,
          pattern: this.pattern === undefined ? undefined : await readImage(this.pattern, '--pattern'),
        };
      case 'sig':
        return { attack: 'sig', alpha: this.alpha, frequency: this.frequency };
      case 'trojan':
        return { attack: 'trojan', position: parsePosition(this.position), margin: this.margin };
      case 'wanet':
        return { attack: 'wanet', k: this.k, s: this.strength };
    }
  }
}

/** The flags that configure one attack or another, in the order error messages list them. */
const ATTACK_FLAGS = [
  '--patch',
  '--patch-size',
  '--position',
  '--margin',
  '--alpha',
  '--pattern',
  '--frequency',
  '--k',
  '--strength',
  '--cross-ratio',
] as const;

type AttackFlag = (typeof ATTACK_FLAGS)[number];

/** Which of {@link ATTACK_FLAGS} each attack takes; any other is refused. */
const FLAGS_OF: Readonly<Record<AttackName, readonly AttackFlag[]>> = {
  badnets: ['--patch', '--patch-size', '--position', '--margin'],
  blend: ['--alpha', '--pattern'],
  sig: ['--alpha', '--frequency'],
  trojan: ['--position', '--margin'],
  wanet: ['--k', '--strength', '--cross-ratio'],
};

/** The rate and what it was a share of, for the output line. */
function rateReading(train: PoisonSummary): string {
  return train.rateOf === 'all'
    ? `--rate ${train.rate} of all rows, drawn from ${train.eligible} eligible`
    : `--rate ${train.rate} of the ${train.eligible} eligible rows`;
}

/** A share as a percentage with two decimals: 0.0906 → "9.06%". */
function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

function parsePosition(text: string | undefined): PatchPosition | undefined {
  if (text === undefined) return undefined;
  if ((CORNERS as readonly string[]).includes(text)) return text as PatchPosition;
  const m = /^(\d+),(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--position expects one of ${CORNERS.join(', ')} or X,Y; got '${text}'`);
  return { x: Number(m[1]), y: Number(m[2]) };
}

async function readImage(path: string, flag: string): Promise<PatchImage> {
  const bytes = await readFile(path).catch((cause: unknown) => {
    throw new IoError(ErrorCode.FileNotFound, `cannot read ${flag} image: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  });
  const { decodeEncodedImage, encodedImageSize } = await import('../../data/decodeEncodedImage.js');
  const image = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  // A patch or pattern is at most an image's size: its header is checked before it is decoded.
  const size = encodedImageSize(image);
  if (size && size.height * size.width > DEFAULT_MAX_IMAGE_PIXELS) {
    throw new DataError(
      ErrorCode.ImageTooLarge,
      `${flag} image is ${size.height}×${size.width}, larger than the default image limit (${DEFAULT_MAX_IMAGE_PIXELS.toLocaleString('en-US')} pixels)`,
      { location: { file: path } },
    );
  }
  try {
    return decodeEncodedImage(image);
  } catch (cause) {
    throw new IoError(ErrorCode.NotADataFile, `${flag} must be a PNG or JPEG file: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
}
