import type { TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { binScores, createFigureCollector } from '../../../../src/report/figures/figureCollector.js';
import {
  classCountsSpec,
  lossTrajectorySpec,
  renderSvg,
  scoreHistogramSpec,
  triggerHeatmapSpec,
  unlearningSpec,
} from '../../../../src/report/html/charts.js';
import { sampleReport } from '../../../helpers/sampleReport.js';

/** The inline data rows of a spec (which must exist). */
function valuesOf<T>(spec: TopLevelSpec | null): T[] {
  if (spec === null) throw new Error('expected a chart spec, got null');
  return (spec.data as { values: T[] }).values;
}

/** Paths Vega drew for the marks of one kind (legends and axes excluded). */
function markPaths(svg: string, kind: string): number {
  // Series of a line or area chart are separate groups; count the paths of all of them.
  const groups = svg.matchAll(new RegExp(`<g class="mark-${kind} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'));
  return [...groups].reduce((n, g) => n + (g[1]?.match(/<path/g) ?? []).length, 0);
}

describe('charts', () => {
  it('draws one bar per class, with the class names on the axis', async () => {
    const svg = await renderSvg(classCountsSpec(sampleReport()));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(markPaths(svg, 'rect')).toBe(4);
    expect(svg).toContain('2 two &lt;b&gt;');
  });

  it('draws the score histogram as shares of each group', async () => {
    const bins = binScores([-9, -8.5, -1, 0, 0.5, 1], [true, true, false, false, false, false], 4);
    const spec = scoreHistogramSpec(bins, 'score');
    const values = (spec.data as { values: { group: string; share: number }[] }).values;
    const sum = (g: string) => values.filter((v) => v.group === g).reduce((s, v) => s + v.share, 0);
    expect(sum('quarantined')).toBeCloseTo(1, 12);
    expect(sum('kept')).toBeCloseTo(1, 12);
    const svg = await renderSvg(spec);
    expect(markPaths(svg, 'rect')).toBe(8);
  });

  it('draws loss trajectories on a log axis, flooring zero losses', async () => {
    const spec = lossTrajectorySpec(sampleReport());
    expect(spec).not.toBeNull();
    const values = valuesOf<{ median: number }>(spec);
    expect(Math.min(...values.map((v) => v.median))).toBeGreaterThan(0);
    const svg = await renderSvg(spec as TopLevelSpec);
    expect(markPaths(svg, 'line')).toBe(2);
  });

  it('falls back to the guard measures when no test set was given', () => {
    const spec = unlearningSpec(sampleReport());
    const values = valuesOf<{ epoch: number; metric: string; value: number }>(spec);
    expect(values).toContainEqual({ epoch: 0, metric: 'held-out accuracy (guard)', value: 0.78 });
    expect(values).toContainEqual({ epoch: 1, metric: 'probe rows predicted as target (guard)', value: 0.2 });
  });

  it('uses clean accuracy and attack success when the test sets were given', () => {
    const r = sampleReport();
    const withTests = {
      ...r,
      unlearning: {
        ...r.unlearning,
        epochs: r.unlearning.epochs.map((e) => ({ ...e, cleanAccuracy: 0.8, attackSuccessRate: 0.01 })),
      },
    };
    const values = valuesOf<{ metric: string; value: number }>(unlearningSpec(withTests));
    expect(values.map((v) => v.metric)).toEqual([
      'clean accuracy (test set)',
      'attack success rate (triggered test set)',
    ]);
  });

  it("plots a retried epoch once, with the retry's measures", () => {
    const r = sampleReport();
    const [epoch] = r.unlearning.epochs;
    if (epoch === undefined) throw new Error('the sample report has an unlearning epoch');
    const retried = {
      ...r,
      unlearning: {
        ...r.unlearning,
        epochs: [
          {
            ...epoch,
            guardAccuracy: 0.6,
            rolledBack: true,
            retried: true,
            stopReason: 'accuracy-drop' as const,
          },
          epoch,
        ],
      },
    };
    const values = valuesOf<{ epoch: number; metric: string; value: number }>(unlearningSpec(retried));
    const heldOut = values.filter((v) => v.metric === 'held-out accuracy (guard)');
    expect(heldOut).toEqual([
      { epoch: 0, metric: 'held-out accuracy (guard)', value: 0.78 },
      { epoch: 1, metric: 'held-out accuracy (guard)', value: 0.8 },
    ]);
  });

  it('names only the measures that exist in the unlearning legend', () => {
    const r = sampleReport();
    const noProbe = {
      ...r,
      unlearning: {
        ...r.unlearning,
        epochs: r.unlearning.epochs.map((e) => ({ ...e, probeTargetRate: null })),
        guard: { ...r.unlearning.guard, initialProbeRate: null },
      },
    };
    const spec = unlearningSpec(noProbe) as { encoding: { color: { scale: { domain: string[] } } } } | null;
    expect(spec?.encoding.color.scale.domain).toEqual(['held-out accuracy (guard)']);
  });

  it('draws no legend for the class counts when no class is suspected', async () => {
    const r = sampleReport();
    const svg = await renderSvg(
      classCountsSpec({ ...r, summary: { ...r.summary, suspectedTargetClass: null } }),
    );
    expect(svg).not.toContain('suspected target');
    expect(await renderSvg(classCountsSpec(r))).toContain('suspected target');
  });

  it('has no unlearning chart without unlearning epochs', () => {
    const r = sampleReport();
    expect(unlearningSpec({ ...r, unlearning: { ...r.unlearning, epochs: [] } })).toBeNull();
  });

  it('draws the trigger view centred on zero, from the heat map the audit computed', async () => {
    const shape = { height: 4, width: 4, channels: 1 };
    const figures = createFigureCollector({ shape, triggerLabel: 2, thumbnails: 0 });
    const row = { label: 2, rank: 0, score: 0, poisoned: null };
    const quarantined = new Uint8Array(16);
    quarantined[15] = 200; // a one-pixel "patch" in the corner
    figures.add({ ...row, id: 'q', quarantined: true, pixels: quarantined });
    figures.add({ ...row, id: 'k', rank: 5, quarantined: false, pixels: new Uint8Array(16) });
    const view = figures.finish(null).trigger;
    if (!view) throw new Error('expected a trigger view');
    const spec = triggerHeatmapSpec(view);
    const values = (spec.data as { values: { x: number; y: number; d: number }[] }).values;
    expect(values).toHaveLength(16);
    expect(values.find((v) => v.x === 3 && v.y === 3)?.d).toBe(200);
    const color = (spec as { encoding: { color: { scale: { domain: number[] } } } }).encoding.color;
    expect(color.scale.domain).toEqual([-200, 200]);
    expect(markPaths(await renderSvg(spec), 'rect')).toBe(16);
  });
});
