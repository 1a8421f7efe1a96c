import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { AuditReport, ReportTriggerView, ScoreBin } from '../auditReport.js';

/**
 * Colours from the Okabe–Ito palette, which stays distinguishable with the common colour-vision
 * deficiencies and in greyscale print (vermillion and blue differ in lightness too).
 */
export const COLORS = {
  quarantined: '#D55E00',
  kept: '#0072B2',
  cleanAccuracy: '#009E73',
  attackSuccess: '#D55E00',
  neutral: '#8c8c8c',
} as const;

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** Shared look: plain white background for print, readable font sizes, no chart borders. */
const CONFIG = {
  // The page labels each chart as one image; per-mark ARIA labels (784 for a heat map) would make a
  // screen reader read every cell.
  aria: false,
  background: 'white',
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'top' },
} as const;

/**
 * Renders a Vega-Lite spec to a standalone SVG string, on the server: the report embeds the SVG, so
 * it needs no script or network when viewed and prints as vectors.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function className(report: AuditReport, label: number): string {
  const name = report.data.classNames?.[label];
  return name ? `${label} ${name}` : String(label);
}

/** Bar chart of quarantined rows per class, the suspected target class highlighted. */
export function classCountsSpec(report: AuditReport): TopLevelSpec {
  const target = report.summary.suspectedTargetClass;
  const roles = target === null ? ['other classes'] : ['suspected target', 'other classes'];
  const values = report.data.perClass.map((c) => ({
    class: className(report, c.label),
    quarantined: c.quarantined,
    share: c.rows > 0 ? c.quarantined / c.rows : 0,
    role: c.label === target ? 'suspected target' : 'other classes',
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Quarantined rows per class',
    config: CONFIG,
    width: 460,
    height: 220,
    data: { values },
    encoding: {
      x: { field: 'class', type: 'nominal', sort: null, title: 'class', axis: { labelAngle: -35 } },
      y: { field: 'quarantined', type: 'quantitative', title: 'quarantined rows' },
    },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          color: {
            field: 'role',
            type: 'nominal',
            title: null,
            scale: {
              domain: roles,
              range: target === null ? [COLORS.kept] : [COLORS.quarantined, COLORS.kept],
            },
            // Without a suspect there is only one kind of bar: nothing to tell apart.
            ...(target === null ? { legend: null } : {}),
          },
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 11 },
        encoding: { text: { field: 'quarantined', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * Histogram of the score for quarantined and kept rows, each as a share of its own group: with a 1%
 * quarantine, raw counts would flatten the quarantined bars to nothing.
 */
export function scoreHistogramSpec(bins: readonly ScoreBin[], scoreTitle: string): TopLevelSpec {
  const totals = bins.reduce((t, b) => ({ q: t.q + b.quarantined, k: t.k + b.kept }), { q: 0, k: 0 });
  const values = bins.flatMap((b) => [
    { start: b.start, end: b.end, group: 'quarantined', share: totals.q > 0 ? b.quarantined / totals.q : 0 },
    { start: b.start, end: b.end, group: 'kept', share: totals.k > 0 ? b.kept / totals.k : 0 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Score histogram of quarantined and kept rows',
    config: CONFIG,
    width: 460,
    height: 220,
    data: { values },
    // Opaque enough for 3:1 contrast against white, translucent enough to show where the groups overlap.
    mark: { type: 'bar', opacity: 0.85, binSpacing: 0 },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: scoreTitle },
      x2: { field: 'end' },
      y: {
        field: 'share',
        type: 'quantitative',
        stack: null,
        title: "share of the group's rows",
        axis: { format: '.0%' },
      },
      color: {
        field: 'group',
        type: 'nominal',
        title: null,
        scale: { domain: ['quarantined', 'kept'], range: [COLORS.quarantined, COLORS.kept] },
      },
    },
  };
}

/** Losses below this are drawn at it: the log axis cannot show 0. */
const LOSS_FLOOR = 1e-7;

/** Median loss (line) and 10th–90th percentile band per isolation epoch, quarantined vs kept. */
export function lossTrajectorySpec(report: AuditReport): TopLevelSpec | null {
  const detail = report.isolation.epochsDetail;
  if (detail.length === 0) return null;
  const floor = (v: number) => Math.max(v, LOSS_FLOOR);
  const values = detail.flatMap((d) =>
    (['isolated', 'kept'] as const).map((g) => ({
      epoch: d.epoch,
      group: g === 'isolated' ? 'quarantined' : 'kept',
      median: floor(d[g].median),
      q10: floor(d[g].q10),
      q90: floor(d[g].q90),
    })),
  );
  const color = {
    field: 'group',
    type: 'nominal',
    title: null,
    scale: { domain: ['quarantined', 'kept'], range: [COLORS.quarantined, COLORS.kept] },
    // The band layer would otherwise lend the legend its faint fill.
    legend: { symbolOpacity: 1 },
  } as const;
  // Grid lines at powers of ten only: a log axis' default minor grid is too dense to read.
  const all = values.flatMap((v) => [v.q10, v.q90]);
  const lo = Math.floor(Math.log10(Math.min(...all)));
  const hi = Math.ceil(Math.log10(Math.max(...all)));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Loss over the isolation epochs, quarantined vs kept rows',
    config: CONFIG,
    width: 460,
    height: 220,
    data: { values },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'isolation epoch', axis: { labelAngle: 0 } },
      color,
    },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: {
          y: {
            field: 'q10',
            type: 'quantitative',
            scale: { type: 'log', domain: [ticks[0] as number, ticks[ticks.length - 1] as number] },
            axis: { values: ticks, format: '~g' },
            title: 'loss (log scale)',
          },
          y2: { field: 'q90' },
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: { y: { field: 'median', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * Clean accuracy and attack success over the unlearning epochs (epoch 0 = after isolation) when the
 * test sets were given; otherwise the guard's own measures, held-out accuracy and the backdoor probe.
 */
export function unlearningSpec(report: AuditReport): TopLevelSpec | null {
  const epochs = report.unlearning.epochs;
  if (epochs.length === 0) return null;
  const known = epochs.some((e) => e.cleanAccuracy !== null || e.attackSuccessRate !== null);
  const before = report.metrics.afterIsolation;
  const series: { epoch: number; metric: string; value: number }[] = [];
  const push = (epoch: number, metric: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined) series.push({ epoch, metric, value });
  };
  const [first, second] = known
    ? ['clean accuracy (test set)', 'attack success rate (triggered test set)']
    : ['held-out accuracy (guard)', 'probe rows predicted as target (guard)'];
  if (known) {
    push(0, first, before.cleanAccuracy?.value);
    push(0, second, before.attackSuccessRate?.value);
  } else {
    push(0, first, report.unlearning.guard.initialAccuracy);
    push(0, second, report.unlearning.guard.initialProbeRate);
  }
  for (const e of epochs) {
    // An attempt the guard rolled back and retried is superseded by the retry's record (same epoch);
    // its test-set measures are of the restored model anyway. The epochs table lists both.
    if (e.retried) continue;
    push(e.epoch, first, known ? e.cleanAccuracy : e.guardAccuracy);
    push(e.epoch, second, known ? e.attackSuccessRate : e.probeTargetRate);
  }
  // Only the measures that exist get a legend entry (no probe without a suspected target, no attack
  // success without a triggered test set).
  const metrics = [first, second].filter((m) => series.some((p) => p.metric === m));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Accuracy and attack success over the unlearning epochs',
    config: CONFIG,
    width: 460,
    height: 220,
    data: { values: series },
    mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'epoch',
        type: 'ordinal',
        title: 'unlearning epoch (0 = after isolation)',
        axis: { labelAngle: 0 },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: null,
        scale: { domain: [0, 1] },
        axis: { format: '.0%' },
      },
      color: {
        field: 'metric',
        type: 'nominal',
        title: null,
        scale: {
          domain: metrics,
          range: [COLORS.cleanAccuracy, COLORS.attackSuccess].slice(0, metrics.length),
        },
        legend: { labelLimit: 400, direction: 'vertical' },
      },
      strokeDash: {
        field: 'metric',
        type: 'nominal',
        title: null,
        scale: {
          domain: metrics,
          range: [
            [1, 0],
            [6, 3],
          ].slice(0, metrics.length),
        },
      },
    },
  };
}

/**
 * The trigger view as a heat map: per pixel, the mean quarantined value minus the mean kept value of
 * the same label, averaged over channels, on a diverging scale centred on 0 (orange = brighter in the
 * quarantined rows, blue = darker).
 */
export function triggerHeatmapSpec(view: ReportTriggerView): TopLevelSpec {
  const { height: rows, width: cols, values: cells } = view.heatmap;
  let extent = 1;
  const values = cells.map((d, p) => {
    extent = Math.max(extent, Math.abs(d));
    return { x: p % cols, y: Math.floor(p / cols), d };
  });
  const cell = Math.max(4, Math.floor(300 / Math.max(rows, cols)));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Trigger view: mean quarantined image minus mean kept image of the same label',
    config: CONFIG,
    width: cols * cell,
    height: rows * cell,
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'x', type: 'ordinal', axis: null },
      y: { field: 'y', type: 'ordinal', axis: null },
      color: {
        field: 'd',
        type: 'quantitative',
        title: 'Δ pixel value',
        scale: { scheme: 'blueorange', domain: [-extent, extent], domainMid: 0 },
        legend: { orient: 'right', gradientLength: Math.max(60, rows * cell - 20) },
      },
    },
  };
}
