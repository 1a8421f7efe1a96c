import * as t from 'typanion';

/**
 * report.json's schema as a validator (typanion, as pipeline files): `abl-audit report` checks a
 * report with it before rendering anything, so a damaged or tampered file is an error naming the
 * field, never markup in the page. Fields may be added within a version: unknown keys are allowed.
 */

const EXTRA = { extra: t.isRecord(t.isUnknown()) };
const obj = <T extends Record<string, t.AnyStrictValidator>>(shape: T) => t.isObject(shape, EXTRA);
const num = t.isNumber();
/** A number the audit may have written as NaN, which JSON stores as null. */
const measured = t.isNullable(num);
const str = t.isString();
const int = t.cascade(num, [t.isInteger()]);
const count = t.cascade(num, [t.isInteger(), t.isAtLeast(0)]);
const nullable = <T>(v: t.StrictValidator<unknown, T>) => t.isNullable(v);
const arr = <T>(v: t.StrictValidator<unknown, T>) => t.isArray(v);

const file = obj({ path: str, bytes: count, sha256: str });
const input = obj({ path: str, files: arr(file) });
const quantiles = obj({ median: measured, q10: measured, q90: measured });
const accuracy = obj({
  value: num,
  rows: count,
  perClass: arr(obj({ label: count, accuracy: nullable(num), rows: count })),
  convention: str,
});
const attack = obj({
  value: num,
  rows: count,
  target: count,
  targetFrom: t.isEnum(['given', 'suspected'] as const),
  convention: str,
});
const modelMetrics = obj({
  cleanAccuracy: nullable(accuracy),
  targetClassAccuracy: nullable(num),
  attackSuccessRate: nullable(attack),
});
const unlearnEpoch = obj({
  epoch: count,
  phase: t.isEnum(['joint', 'fine-tune', 'unlearn', 'evaluate'] as const),
  learningRate: num,
  meanObjective: nullable(num),
  guardAccuracy: measured,
  probeTargetRate: nullable(num),
  targetClassAccuracy: nullable(num),
  isolatedLoss: measured,
  rolledBack: t.isBoolean(),
  retried: t.isBoolean(),
  accuracyTolerance: measured,
  newlyDistrusted: count,
  stopReason: nullable(
    t.isEnum(['accuracy-drop', 'target-class-drop', 'backdoor-relearned', 'loss-not-finite'] as const),
  ),
  cleanAccuracy: nullable(num),
  attackSuccessRate: nullable(num),
});
const shape = obj({ height: count, width: count, channels: count });
const figures = obj({
  scoreBins: nullable(arr(obj({ start: num, end: num, quarantined: count, kept: count }))),
  topQuarantined: arr(
    obj({
      id: str,
      label: count,
      rank: count,
      score: nullable(num),
      poisoned: nullable(t.isBoolean()),
      image: str,
    }),
  ),
  trigger: nullable(
    obj({
      label: count,
      quarantinedRows: count,
      keptRows: count,
      imageShape: shape,
      quarantinedMean: str,
      keptMean: str,
      heatmap: obj({ height: count, width: count, values: arr(num) }),
    }),
  ),
});

const verdict = t.isEnum(['poison-found', 'no-poison-found', 'inconclusive'] as const);
const detection = obj({
  verdict,
  flaggedClasses: arr(count),
  split: t.isEnum(['adaptive', 'fixed'] as const),
  quarantineAt: num,
  reviewFrom: num,
  quarantinePosterior: num,
  reviewPosterior: num,
  thresholds: obj({
    flagStrength: num,
    flagIndex: num,
    weakStrength: num,
    weakIndex: num,
    strengthIndex: num,
    minRows: num,
    minClassRows: count,
    minClasses: count,
  }),
  judgedClasses: count,
  review: count,
  classes: arr(
    obj({
      label: count,
      name: nullable(str),
      rows: count,
      strength: measured,
      strengthIndex: nullable(num),
      separation: measured,
      lowWeight: nullable(num),
      lowGap: nullable(num),
      lowIndex: nullable(num),
      call: t.isEnum(['flagged', 'weak', 'none'] as const),
      side: t.isEnum(['low', 'high'] as const),
    }),
  ),
  explanation: str,
});

/** The whole report, as written by this version (older reports are upgraded before they are checked). */
export const isAuditReport = obj({
  schema: str,
  tool: obj({ name: t.isLiteral('abl-audit'), version: str }),
  createdAt: str,
  status: t.isEnum(['passed', 'gate-failed'] as const),
  summary: obj({
    rows: count,
    quarantined: count,
    quarantinedFraction: num,
    review: count,
    verdict: nullable(verdict),
    flaggedClasses: arr(count),
    suspectedTargetClass: nullable(count),
    suspectedTargetClassName: nullable(str),
    standoutSource: nullable(str),
    cleanAccuracy: nullable(num),
    attackSuccessRate: nullable(num),
  }),
  inputs: obj({ train: input, test: nullable(input), backdoorTest: nullable(input) }),
  data: obj({
    rows: count,
    numClasses: count,
    classNames: nullable(arr(str)),
    imageShape: shape,
    columns: obj({ image: str, label: str, id: nullable(str) }),
    perClass: arr(obj({ label: count, name: nullable(str), rows: count, quarantined: count, review: count })),
    perSource: arr(obj({ file: str, rows: count, quarantined: count, review: count })),
  }),
  detection: nullable(detection),
  sources: nullable(
    obj({
      column: nullable(str),
      entries: arr(
        obj({
          source: str,
          rows: count,
          quarantined: count,
          review: count,
          dataShare: num,
          quarantineShare: num,
          quarantineRate: num,
          lift: num,
        }),
      ),
      standout: nullable(str),
      rule: str,
    }),
  ),
  isolation: obj({
    score: str,
    scoreDescription: str,
    lga: str,
    gamma: num,
    epochs: count,
    ratio: nullable(num),
    isolated: count,
    classGaps: nullable(arr(nullable(num))),
    targetStandout: nullable(num),
    minStandout: num,
    suspectedTarget: nullable(obj({ label: count, name: nullable(str), share: num, lift: num })),
    epochsDetail: arr(obj({ epoch: count, meanObjective: measured, isolated: quantiles, kept: quantiles })),
    groundTruth: nullable(
      obj({
        poisoned: count,
        isolated: count,
        truePositives: count,
        precision: num,
        recall: nullable(num),
        auroc: nullable(num),
        maxPrecision: num,
      }),
    ),
  }),
  outputs: obj({
    quarantine: arr(str),
    review: arr(str),
    clean: arr(str),
    scores: str,
    sources: nullable(str),
    model: str,
    report: str,
    html: nullable(str),
  }),
  unlearning: obj({
    removal: str,
    mode: str,
    ascended: t.isBoolean(),
    triggerFilter: nullable(obj({ pixels: count, threshold: num, rows: count })),
    epochs: arr(unlearnEpoch),
    guard: obj({
      rows: count,
      maxDrop: num,
      retries: count,
      maxRetries: count,
      initialAccuracy: measured,
      finalAccuracy: measured,
      stopped: t.isBoolean(),
      probeRows: count,
      maxProbeRise: nullable(num),
      initialProbeRate: nullable(num),
      lowestProbeRate: nullable(num),
      probeRule: str,
      rowsRule: str,
    }),
  }),
  metrics: obj({ afterIsolation: modelMetrics, cleanedModel: modelMetrics }),
  gates: arr(obj({ name: str, threshold: num, value: nullable(num), passed: t.isBoolean(), message: str })),
  figures: nullable(figures),
  parameters: t.isRecord(t.isUnknown()),
  seed: int,
  backend: obj({
    name: str,
    tfBackend: str,
    threads: count,
    skipped: arr(obj({ name: str, reason: str })),
  }),
  versions: t.isRecord(str),
  timings: t.isRecord(num),
  resumed: t.isBoolean(),
});
