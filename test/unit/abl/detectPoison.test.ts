import { describe, expect, it } from 'vitest';
import { classEvidence, robustIndex } from '../../../src/abl/classEvidence.js';
import { detectPoison, ROW_CALLS } from '../../../src/abl/detectPoison.js';
import { componentPosterior, fitTwoGaussians } from '../../../src/abl/twoGaussians.js';
import { mulberry32 } from '../../../src/util/random.js';

/** Seeded normal samples (Box-Muller). */
function normals(seed: number): (mean: number, sd: number) => number {
  const rng = mulberry32(seed);
  return (mean, sd) => mean + sd * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * Ten classes of 300 rows whose scores (mean log-loss) differ the way real classes do: an easy class
 * far lower than the rest, a hard one higher and wider. `plant` puts a share of one class's rows in a
 * second, far lower mode (a learned backdoor) and returns which rows it planted.
 */
function scores(seed: number, plant?: { label: number; share: number; mean: number; sd: number }) {
  const draw = normals(seed);
  const classMean = [-2, -6, -1.5, -2.5, -2, -4, 0, -3, -3.5, -3];
  const classSd = [1, 1.4, 1, 1, 0.8, 1.8, 0.6, 0.9, 1.3, 1.2];
  const labels: number[] = [];
  const score: number[] = [];
  const planted: boolean[] = [];
  for (let label = 0; label < 10; label++) {
    for (let i = 0; i < 300; i++) {
      const poison = plant?.label === label && i < plant.share * 300;
      labels.push(label);
      planted.push(poison);
      score.push(
        poison && plant
          ? draw(plant.mean, plant.sd)
          : draw(classMean[label] as number, classSd[label] as number),
      );
    }
  }
  return { labels: Int32Array.from(labels), score: Float64Array.from(score), planted };
}

describe('fitTwoGaussians', () => {
  it('finds a planted second mode: its weight, its mean, and a clear gain', () => {
    const draw = normals(1);
    const values = [
      ...Array.from({ length: 700 }, () => draw(0, 1)),
      ...Array.from({ length: 300 }, () => draw(-8, 0.5)),
    ];
    const fit = fitTwoGaussians(values);
    expect(fit.means[0]).toBeCloseTo(-8, 0);
    expect(fit.means[1]).toBeCloseTo(0, 0);
    expect(fit.weights[0]).toBeCloseTo(0.3, 1);
    expect(fit.gain).toBeGreaterThan(0.3);
    expect(componentPosterior(fit, -8, 0)).toBeGreaterThan(0.99);
    expect(componentPosterior(fit, 0, 0)).toBeLessThan(0.01);
  });

  it('gains almost nothing on one Gaussian, and nothing on a constant sample', () => {
    const draw = normals(2);
    expect(fitTwoGaussians(Array.from({ length: 1000 }, () => draw(3, 2))).gain).toBeLessThan(0.01);
    expect(fitTwoGaussians([5, 5, 5, 5])).toMatchObject({ gain: 0, means: [5, 5] });
  });

  it('is deterministic', () => {
    const { score } = scores(3);
    expect(fitTwoGaussians(score)).toEqual(fitTwoGaussians(score));
  });
});

describe('robustIndex', () => {
  it('measures each value in robust standard deviations from the median', () => {
    expect(robustIndex([1, 2, 3, 4, 100])).toEqual([-2 / 1.4826, -1 / 1.4826, 0, 1 / 1.4826, 97 / 1.4826]);
    expect(robustIndex([1, null, 1, 1])).toEqual([null, null, null, null]);
    expect(robustIndex([1, 2])).toEqual([null, null]);
  });
});

describe('classEvidence', () => {
  it('flags the class with a planted fast mode, and only it, although an easy class is lower overall', () => {
    const { labels, score } = scores(4, { label: 3, share: 0.45, mean: -9, sd: 1 });
    const evidence = classEvidence(labels, score, { tail: 10 });
    expect(evidence.filter((c) => c.call === 'flagged').map((c) => c.label)).toEqual([3]);
    const easy = evidence[1];
    expect(easy?.call).toBe('none');
  });

  it('flags nothing on data without a planted mode', () => {
    for (const seed of [5, 6, 7]) {
      const { labels, score } = scores(seed);
      expect(classEvidence(labels, score, { tail: 10 }).map((c) => c.call)).not.toContain('flagged');
    }
  });

  it('does not judge a class with too few rows', () => {
    const labels = Int32Array.from({ length: 30 }, (_, i) => (i < 25 ? 0 : 1));
    const evidence = classEvidence(
      labels,
      Float64Array.from({ length: 30 }, (_, i) => i),
      { tail: 2 },
    );
    expect(evidence[1]).toMatchObject({ label: 1, rows: 5, fit: null, strength: 0, call: 'none' });
  });
});

describe('detectPoison', () => {
  it('poison-found: quarantines the planted rows with high precision and recall, reviews the unsure ones', () => {
    const { labels, score, planted } = scores(8, { label: 3, share: 0.45, mean: -9, sd: 1 });
    const d = detectPoison(labels, score, { tail: 10 });
    expect(d.verdict).toBe('poison-found');
    expect(d.flagged).toEqual([3]);
    let tp = 0;
    d.calls.forEach((call, i) => {
      if (call === ROW_CALLS.quarantine && planted[i]) tp++;
    });
    const poison = planted.filter(Boolean).length;
    expect(tp / d.quarantined).toBeGreaterThanOrEqual(0.95);
    expect(tp / poison).toBeGreaterThanOrEqual(0.9);
    // Nothing outside the flagged class is touched.
    d.calls.forEach((call, i) => {
      if (labels[i] !== 3) expect(call).toBe(ROW_CALLS.clean);
    });
    expect(d.review).toBe([...d.calls].filter((c) => c === ROW_CALLS.review).length);
    expect(d.suspicion.every((p) => p >= 0)).toBe(true);
  });

  it('a planted slow mode (rows the model keeps getting wrong) is quarantined from its side, not the clean rows', () => {
    // WaNet after 2 epochs: the poisoned rows of the target class have a high loss, its clean rows a
    // normal one, like every other class's.
    const { labels, score, planted } = scores(12, { label: 4, share: 0.45, mean: 1.5, sd: 0.3 });
    const d = detectPoison(labels, score, { tail: 10 });
    expect(d.verdict).toBe('poison-found');
    expect(d.flagged).toEqual([4]);
    expect(d.classes[4]?.side).toBe('high');
    let tp = 0;
    d.calls.forEach((call, i) => {
      if (call === ROW_CALLS.quarantine && planted[i]) tp++;
    });
    expect(tp / d.quarantined).toBeGreaterThanOrEqual(0.95);
    expect(tp / planted.filter(Boolean).length).toBeGreaterThanOrEqual(0.8);
  });

  it('no-poison-found on data without a planted mode: nothing quarantined, nothing reviewed', () => {
    const { labels, score } = scores(9);
    const d = detectPoison(labels, score, { tail: 10 });
    expect(d).toMatchObject({ verdict: 'no-poison-found', flagged: [], quarantined: 0, review: 0 });
  });

  it('inconclusive when a class shows weak evidence only', () => {
    const { labels, score } = scores(10, { label: 2, share: 0.15, mean: -4.5, sd: 0.6 });
    const d = detectPoison(labels, score, {
      tail: 10,
      thresholds: {
        flagStrength: 10,
        flagIndex: 100,
        weakStrength: 0.05,
        weakIndex: 100,
        strengthIndex: 2,
        minRows: 5,
      },
    });
    expect(d.verdict).toBe('inconclusive');
    expect(d.quarantined).toBe(0);
    expect(d.classes.find((c) => c.call === 'weak')?.label).toBe(2);
  });

  it("measures suspicion below the class's clean mode: zero at or above its centre, and nowhere else", () => {
    const { labels, score } = scores(11, { label: 3, share: 0.45, mean: -9, sd: 1 });
    const d = detectPoison(labels, score, { tail: 10 });
    const mode = d.classes[3]?.cleanMode;
    expect(mode?.centre).toBeCloseTo(-2.5, 0);
    score.forEach((s, i) => {
      if (labels[i] !== 3) expect(d.suspicion[i]).toBe(0);
      else if (mode && s >= mode.centre) expect(d.suspicion[i]).toBe(0);
      else if (mode) expect(d.suspicion[i]).toBeCloseTo((mode.centre - s) / mode.spread, 4);
    });
  });
});
