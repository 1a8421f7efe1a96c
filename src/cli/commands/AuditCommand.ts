import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { LGA_MODES } from '../../abl/lgaModes.js';
import { SCORE_METHODS } from '../../abl/scoreRows.js';
import { REMOVAL_MODES, UNLEARN_MODES } from '../../abl/unlearnModes.js';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../config/auditConfig.js';
import { PRESET_NAMES, presetDefaults } from '../../config/presets.js';
import {
  isBatchSize,
  isEpochCount,
  isOpenFraction,
  isStrictlyPositive,
  isThreadCount,
} from '../../config/validators.js';
import { BACKEND_NAMES } from '../../train/backendNames.js';
import { ARCHITECTURES } from '../../train/models/architectures.js';
import { DatasetCommand } from '../DatasetCommand.js';

const isNumber = t.isNumber();
const fraction = isOpenFraction();
const positive = isStrictlyPositive();
const D = AUDIT_DEFAULTS;
const PAPER = presetDefaults('paper');

/** `abl-audit audit`: the whole ABL audit of one training set. */
export class AuditCommand extends DatasetCommand {
  static override paths = [['audit']];
  static override usage = Command.Usage({
    category: 'Audit',
    description: 'find backdoor-poisoned rows with Anti-Backdoor Learning and train a cleaned model',
    details: `
      Trains a model on DATASET with local gradient ascent (LGA) for the isolation epochs, recording every row's loss after each epoch; judges every class from its rows' losses and gives a verdict (poison-found, no-poison-found or inconclusive); quarantines the suspicious rows of each flagged class (adaptive: as many as there are, none from clean data; \`--isolation-ratio\` quarantines a fixed share instead), with uncertain rows in a review band; then trains the cleaned model without them (\`--removal retrain\`, the default: a fresh model trained as \`train\` trains, on the rows it trusts; \`unlearn\` or \`retrain-unlearn\`: ABL's unlearning, ascending on them) under guards that roll an epoch back when held-out accuracy drops or the backdoor returns. \`--preset paper\` starts from the published ABL's settings instead.

      Writes to OUT: \`quarantine/\`, \`review/\` and \`clean/\` (Parquet parts with every original column plus \`abl_loss\`, \`abl_score\`, \`abl_rank\`, \`abl_suspicion\`), \`scores.parquet\` (every row's per-epoch losses, score and rank), \`sources.parquet\` (rows and quarantine per upstream source: \`--source-col\`, a hive \`source=NAME/\` folder, or each file), \`model/\` (the cleaned TensorFlow.js model; takes raw 0-255 HWC pixels) and \`report.json\` (schema in docs/report-schema.md). Each file is written under a temporary name and renamed when complete.

      With \`--test\` the report has clean accuracy (all classes); with \`--backdoor-test\` (from \`abl-audit poison --test-out\`) the attack success rate for \`--target\` (default: the suspected target class). A \`poisoned\` column in DATASET (benchmark sets) is used only to score the isolation in the report.

      An interrupted audit continues from its last epoch checkpoint with \`--resume\` and ends with the same outputs. Exit codes: 0 ok, 1 error, 2 usage, 3 gate failed (see \`abl-audit run\`).
    `,
    examples: [
      [
        'Audit the BadNets demo data (about a minute)',
        '$0 audit fixtures/fashion-mnist-badnets/train.parquet --out out/demo --test fixtures/fashion-mnist/test.parquet --backdoor-test fixtures/fashion-mnist-badnets/test-backdoor.parquet',
      ],
      ['Continue an interrupted audit', '$0 audit data/train.parquet --out out/audit --resume'],
      [
        "The reference code's sequence, for comparison",
        '$0 audit data/train.parquet --out out/ref --unlearn-mode reference --lga batch --score final-loss',
      ],
    ],
  });

  input = Option.String({ name: 'dataset' });
  out = Option.String('--out', { required: true, description: 'Output folder' });
  test = Option.String('--test', { description: 'Clean test set: report clean accuracy' });
  backdoorTest = Option.String('--backdoor-test', {
    description: 'Triggered test set: report attack success rate',
  });
  target = Option.String('--target', {
    description: 'Attack target class for --backdoor-test (default: the suspected target class)',
    validator: t.cascade(isNumber, [t.isInteger(), t.isAtLeast(0)]),
  });
  sourceCol = Option.String('--source-col', {
    description:
      "Column naming each row's upstream source, for the per-source table and sources.parquet (default: a `source` column, as hive folders source=NAME/ add, else each file)",
  });
  preset = Option.String('--preset', 'default', {
    description: `Defaults to start from: ${PRESET_NAMES.join(' or ')} (default default; paper: the paper's ABL, 20 LGA epochs, the lowest 1% isolated, ascent with no guards); the flags below given explicitly replace the preset's values`,
    validator: t.isEnum(PRESET_NAMES),
  });
  model = Option.String('--model', D.model, {
    description: `One of ${ARCHITECTURES.join(', ')} (default ${D.model})`,
    validator: t.isEnum(ARCHITECTURES),
  });
  isolationRatio = Option.String('--isolation-ratio', {
    description:
      "Quarantine a fixed share of rows, in (0, 1), the paper's budget (0.01), or `adaptive`: the suspicious rows of each flagged class, none from clean data (default adaptive; --preset paper: 0.01)",
    validator: t.isOneOf([t.isLiteral('adaptive'), fraction], { exclusive: true }),
  });
  gamma = Option.String('--gamma', {
    description: `LGA loss floor γ (default ${D.isolation.gamma})`,
    validator: positive,
  });
  isolationEpochs = Option.String('--isolation-epochs', {
    description: `LGA epochs before isolating (default ${D.isolation.epochs}; --preset paper: ${PAPER.isolation.epochs})`,
    validator: isEpochCount(),
  });
  lga = Option.String('--lga', {
    description: `LGA form: ${LGA_MODES.join(' or ')} (default ${D.isolation.lga}; --preset paper: ${PAPER.isolation.lga})`,
    validator: t.isEnum(LGA_MODES),
  });
  score = Option.String('--score', {
    description: `Isolation score: ${SCORE_METHODS.join(', ')} (default ${D.isolation.score}; --preset paper: ${PAPER.isolation.score})`,
    validator: t.isEnum(SCORE_METHODS),
  });
  removal = Option.String('--removal', {
    description: `Where the cleaned model starts: ${REMOVAL_MODES.join(', ')} (default ${D.unlearning.removal}: a fresh model trained as \`train\` trains, on the trusted rows; --preset paper: ${PAPER.unlearning.removal})`,
    validator: t.isEnum(REMOVAL_MODES),
  });
  unlearnMode = Option.String('--unlearn-mode', {
    description: `${UNLEARN_MODES.join(' or ')} (default ${D.unlearning.mode})`,
    validator: t.isEnum(UNLEARN_MODES),
  });
  unlearnEpochs = Option.String('--unlearn-epochs', {
    description: `Epochs of the cleaned model (reference mode: fine-tuning epochs) (default ${D.unlearning.epochs}; --preset paper: ${PAPER.unlearning.epochs})`,
    validator: isEpochCount(),
  });
  maxAccuracyDrop = Option.String('--max-accuracy-drop', {
    description: `Guard: roll back and stop when held-out accuracy falls more than this (default ${D.unlearning.maxAccuracyDrop}; --preset paper: ${PAPER.unlearning.maxAccuracyDrop})`,
    validator: fraction,
  });
  batchSize = Option.String('--batch-size', String(D.batchSize), {
    description: `Rows per step (default ${D.batchSize})`,
    validator: isBatchSize(),
  });
  lr = Option.String('--lr', String(D.learningRate), {
    description: `SGD learning rate (momentum 0.9, Nesterov) of the isolation, and of --removal unlearn (default ${D.learningRate}; the retrained model uses Adam at 0.001)`,
    validator: positive,
  });
  seed = Option.String('--seed', String(D.seed), {
    description: `Seed of initialisation, data order and sampling (default ${D.seed})`,
    validator: t.cascade(isNumber, [t.isInteger()]),
  });
  backend = Option.String('--backend', D.backend, {
    description: `auto (default), ${BACKEND_NAMES.join(', ')}`,
    validator: t.isEnum(['auto', ...BACKEND_NAMES] as const),
  });
  threads = Option.String('--threads', String(D.threads), {
    description:
      'Threads to split each batch across on wasm/cpu: auto (default: every core, at most 8) or 1-64',
    validator: isThreadCount(),
  });
  force = Option.Boolean('--force', false, {
    description:
      'Write into an output folder that holds files abl-audit did not write (the outputs an audit writes there are replaced; other files are kept)',
  });
  resume = Option.Boolean('--resume', false, {
    description: 'Continue an interrupted audit in OUT from its last checkpoint',
  });

  protected async run(): Promise<number> {
    const P = presetDefaults(this.preset);
    const config: AuditConfig = {
      ...P,
      train: this.input,
      out: this.out,
      test: this.test ?? null,
      backdoorTest: this.backdoorTest ?? null,
      attackTarget: this.target ?? null,
      columns: { ...this.overrides(), sourceCol: this.sourceCol },
      model: this.model,
      batchSize: this.batchSize,
      learningRate: this.lr,
      seed: this.seed,
      backend: this.backend,
      threads: this.threads,
      force: this.force,
      isolation: {
        epochs: this.isolationEpochs ?? P.isolation.epochs,
        gamma: this.gamma ?? P.isolation.gamma,
        lga: this.lga ?? P.isolation.lga,
        ratio:
          this.isolationRatio === undefined
            ? P.isolation.ratio
            : this.isolationRatio === 'adaptive'
              ? null
              : this.isolationRatio,
        score: this.score ?? P.isolation.score,
      },
      unlearning: {
        ...P.unlearning,
        removal: this.removal ?? P.unlearning.removal,
        mode: this.unlearnMode ?? P.unlearning.mode,
        epochs: this.unlearnEpochs ?? P.unlearning.epochs,
        maxAccuracyDrop: this.maxAccuracyDrop ?? P.unlearning.maxAccuracyDrop,
      },
    };
    const { runAuditForCli } = await import('../runAuditCommand.js');
    return runAuditForCli(config, { output: this.output, resume: this.resume });
  }
}
