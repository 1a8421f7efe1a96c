import type { AuditReport, ReportFile, ReportImageShape, ReportModelMetrics } from '../auditReport.js';
import { MAX_EMBEDDED_SIDE } from '../figures/figureLimits.js';
import { escapeHtml } from './escapeHtml.js';
import { REPORT_CSS } from './reportStyles.js';
import { sourcesSection } from './sourcesSection.js';

/** The charts of the report, each a standalone SVG (null when there is nothing to draw). */
export interface ReportCharts {
  readonly classCounts: string;
  readonly scoreHistogram: string | null;
  readonly lossTrajectory: string | null;
  readonly unlearning: string | null;
  readonly triggerHeatmap: string | null;
}

export { escapeHtml };

const esc = escapeHtml;
const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)}%`;
const num = (v: number) => v.toLocaleString('en-US');
const orDash = (v: number | null | undefined, f: (x: number) => string) =>
  v === null || v === undefined ? '—' : f(v);

function className(report: AuditReport, label: number): string {
  const name = report.data.classNames?.[label];
  return name ? `${label} (${name})` : String(label);
}

/**
 * The audit report as one self-contained HTML page: verdict first, then the pictures, the evidence
 * and the run's facts. Everything is inline (styles, SVG charts, PNG data URIs) and there is no
 * script, so the page opens from disk, offline, and prints as it shows.
 *
 * @param report - the audit's report.json (its `figures` hold the images and histogram data).
 * @param charts - the rendered charts.
 */
export function renderReportHtml(
  report: AuditReport,
  charts: ReportCharts,
  options: { readonly besideReportJson?: boolean } = {},
): string {
  const verdict = report.summary.verdict ? `${report.summary.verdict}, ` : '';
  const title = `ABL audit: ${verdict}${report.summary.quarantined} of ${report.summary.rows} rows quarantined`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="abl-audit ${esc(report.tool.version)}">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>Backdoor audit report</h1>
<p class="sub">${esc(report.inputs.train.path)} · ${esc(report.createdAt)} · abl-audit ${esc(report.tool.version)}</p>
</header>
<main>
${verdictSection(report)}
${evidenceSection(report)}
${sourcesSection(report)}
${quarantineSection(report, charts)}
${thumbnailSection(report)}
${triggerSection(report, charts)}
${isolationSection(report, charts)}
${unlearningSection(report, charts)}
${groundTruthSection(report)}
${runFactsSection(report)}
</main>
<footer>Schema ${esc(report.schema)}. Machine-readable data: ${options.besideReportJson === false ? 'report.json in the audit’s output folder' : '<a href="report.json">report.json</a> in the same folder'}.</footer>
</body>
</html>
`;
}

function verdictSection(report: AuditReport): string {
  const s = report.summary;
  const failed = report.gates.filter((g) => !g.passed);
  const status =
    report.gates.length === 0
      ? '<p class="status neutral" id="status">No gates configured</p>'
      : failed.length === 0
        ? `<p class="status pass" id="status">✓ All ${report.gates.length} gates passed</p>`
        : `<p class="status fail" id="status">✗ ${failed.length} of ${report.gates.length} gates failed</p>`;
  const standout = report.isolation.targetStandout;
  const minStandout = report.isolation.minStandout;
  const targetCard =
    s.suspectedTargetClass === null
      ? card(
          'Suspected target class',
          'none',
          standout === null ? '' : `largest class standout ${standout.toFixed(1)}× (< ${minStandout})`,
        )
      : card(
          'Suspected target class',
          `${s.suspectedTargetClass}${report.data.classNames?.[s.suspectedTargetClass] ? ` <small>${esc(report.data.classNames[s.suspectedTargetClass] as string)}</small>` : ''}`,
          standout === null
            ? ''
            : `stands out ${standout.toFixed(1)}× the median class (≥ ${minStandout} is clear)`,
        );
  const cleaned = report.metrics.cleanedModel;
  const gt = report.isolation.groundTruth;
  const verdictCard = s.verdict
    ? card(
        'Verdict',
        `<span class="verdict verdict-${esc(s.verdict)}">${esc(s.verdict)}</span>`,
        s.flaggedClasses.length > 0
          ? `class${s.flaggedClasses.length > 1 ? 'es' : ''} ${s.flaggedClasses.map((l) => className(report, l)).join(', ')}`
          : '',
      )
    : '';
  const cards = [
    verdictCard,
    card(
      'Rows audited',
      num(s.rows),
      `${report.data.numClasses} classes, ${report.data.imageShape.height}×${report.data.imageShape.width}×${report.data.imageShape.channels}`,
    ),
    card(
      'Quarantined',
      `${num(s.quarantined)} <small>(${pct(s.quarantinedFraction, 2)})</small>`,
      report.isolation.ratio === null
        ? `adaptive split${s.review > 0 ? `; ${num(s.review)} more rows in review/` : ''}`
        : `isolation ratio ${report.isolation.ratio}`,
    ),
    targetCard,
    measuredCard('Cleaned model accuracy', cleaned.cleanAccuracy, 'clean test rows'),
    measuredCard('Attack success rate', cleaned.attackSuccessRate, 'triggered test rows'),
    gt
      ? card(
          'Quarantine precision',
          pct(gt.precision),
          `recall ${orDash(gt.recall, (r) => pct(r))} (ground truth)`,
        )
      : '',
  ].join('');
  const gates =
    report.gates.length === 0
      ? ''
      : `<ul class="gates">${report.gates
          .map(
            (g) => `<li class="${g.passed ? 'pass' : 'fail'}">${g.passed ? '✓' : '✗'} ${esc(g.message)}</li>`,
          )
          .join('')}</ul>`;
  return `<section id="verdict" aria-labelledby="verdict-h">
<h2 id="verdict-h">Verdict</h2>
${status}
<p class="lead">${esc(verdictSentence(report))}</p>
<div class="cards">${cards}</div>
${gates}
</section>`;
}

/** A card for a measured rate, or nothing when it was not measured (no test set given). */
function measuredCard(label: string, measured: { value: number; rows: number } | null, rows: string): string {
  return measured ? card(label, pct(measured.value), `${num(measured.rows)} ${rows}`) : '';
}

function card(label: string, valueHtml: string, note: string): string {
  return `<div class="card"><div class="card-label">${esc(label)}</div><div class="card-value">${valueHtml}</div>${note ? `<div class="card-note">${esc(note)}</div>` : ''}</div>`;
}

/** The verdict in words: what was found, how sure, and what was done about it. */
export function verdictSentence(report: AuditReport): string {
  const s = report.summary;
  const parts = [
    `${num(s.quarantined)} of ${num(s.rows)} rows (${pct(s.quarantinedFraction, 2)}) were quarantined${s.review > 0 ? `, ${num(s.review)} set aside for review` : ''}.`,
  ];
  if (report.detection) parts.unshift(report.detection.explanation);
  else parts.push(...targetSentences(report));
  if (report.unlearning.ascended) {
    parts.push('The cleaned model was trained on the rest while unlearning the quarantined rows.');
  } else if (s.quarantined > 0) {
    parts.push('The cleaned model was trained without the quarantined rows; they were not unlearned.');
  } else {
    parts.push('The cleaned model was trained on every row.');
  }
  if (report.unlearning.ascended && report.unlearning.guard.stopped)
    parts.push('The guard stopped unlearning early and rolled back to the last good epoch.');
  return parts.join(' ');
}

/** How reports made before the verdict named the target (by the class standout or concentration). */
function targetSentences(report: AuditReport): string[] {
  const s = report.summary;
  const parts: string[] = [];
  const target = report.isolation.suspectedTarget;
  const standout = report.isolation.targetStandout;
  if (s.suspectedTargetClass !== null && report.isolation.score === 'target-class' && standout !== null) {
    // Under this score the suspect's rows are ranked first, so the quarantine's make-up follows from
    // the choice; the evidence is the standout that made it.
    parts.push(
      `Class ${className(report, s.suspectedTargetClass)} is the suspected backdoor target: its lowest losses stand apart from the rest of the class ${standout.toFixed(1)}× as far as in the median class (${report.isolation.minStandout} or more counts as clear), the mark of rows learned much faster than their class, so its rows were ranked first.`,
    );
  } else if (s.suspectedTargetClass !== null && target) {
    parts.push(
      `They concentrate in class ${className(report, s.suspectedTargetClass)}: ${pct(target.share)} of the quarantine, ${target.lift.toFixed(1)}× that class's share of the data, which is what a backdoor tied to one target class looks like.`,
    );
  } else if (s.suspectedTargetClass !== null) {
    parts.push(
      `Class ${className(report, s.suspectedTargetClass)} stands out as the likely backdoor target.`,
    );
  } else if (s.quarantined > 0) {
    parts.push(
      'No class stands out, so no backdoor target was identified: the quarantine holds the lowest-loss rows overall, which may be clean rows of an easy class.',
    );
  }
  return parts;
}

/** Each class's evidence, the thresholds it was judged by and what was set aside from it. */
function evidenceSection(report: AuditReport): string {
  const d = report.detection;
  if (!d) return '';
  const t = d.thresholds;
  const fixed = (v: number | null, digits = 2) =>
    v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits);
  const rows = d.classes
    .map((c) => {
      const counts = report.data.perClass[c.label];
      return `<tr class="call-${esc(c.call)}"><td>${esc(className(report, c.label))}</td><td>${num(c.rows)}</td><td>${fixed(c.strength)}</td><td>${fixed(c.strengthIndex, 1)}</td><td>${fixed(c.separation, 1)}</td><td>${c.lowWeight === null ? '—' : pct(c.lowWeight, 0)}</td><td>${fixed(c.lowIndex, 1)}</td><td>${c.side === 'high' ? 'slow' : 'fast'}</td><td>${esc(c.call)}</td><td>${num(counts?.quarantined ?? 0)}</td><td>${num(counts?.review ?? 0)}</td></tr>`;
    })
    .join('');
  return `<section id="evidence" aria-labelledby="evidence-h">
<h2 id="evidence-h">Evidence per class</h2>
<p>Two statistics per class, each compared with the other classes by a robust index (how many robust standard deviations it stands above the median class). <em>Strength</em>: how clearly the class’s isolation scores split into two modes, one learned far faster (a two-Gaussian fit’s gain in nats per row times the modes’ separation). <em>Gap</em>: how far the class’s lowest scores sit below its median. A class is flagged at strength ≥ ${t.flagStrength} (with an index ≥ ${t.strengthIndex}) or a gap index ≥ ${t.flagIndex}, or when both reach the weak levels (strength ≥ ${t.weakStrength}, gap index ≥ ${t.weakIndex}); one of them at its weak level is weak evidence. In a class flagged on its fast side, rows ${d.quarantineAt} or more robust standard deviations below the class’s clean mode (its upper half) are quarantined, from ${d.reviewFrom} they go to review/; in a class flagged on its slow side (rows the model keeps getting wrong), rows whose posterior of the slow mode reaches ${pct(d.quarantinePosterior, 0)} are quarantined, from ${pct(d.reviewPosterior, 0)} reviewed${d.split === 'fixed' ? ' (this audit used a fixed isolation ratio instead)' : ''}.</p>
<table class="evidence"><thead><tr><th scope="col">Class</th><th scope="col">Rows</th><th scope="col">Strength</th><th scope="col">Index</th><th scope="col">Separation</th><th scope="col">Faster mode</th><th scope="col">Gap index</th><th scope="col">Side</th><th scope="col">Call</th><th scope="col">Quarantined</th><th scope="col">Review</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

function figure(id: string, title: string, svg: string | null, caption: string): string {
  if (svg === null) return '';
  return `<figure class="chart" id="${id}"><figcaption><strong>${esc(title)}.</strong> ${esc(caption)}</figcaption>${plot(title, svg)}</figure>`;
}

/** A chart as one image for assistive technology: its marks are not announced one by one. */
function plot(label: string, svg: string): string {
  return `<div class="plot" role="img" aria-label="${esc(label)}">${svg}</div>`;
}

function quarantineSection(report: AuditReport, charts: ReportCharts): string {
  return `<section id="quarantine" aria-labelledby="quarantine-h">
<h2 id="quarantine-h">What was quarantined</h2>
<div class="figures">
${figure('chart-classes', 'Quarantined rows per class', charts.classCounts, classCaption(report))}
${figure('chart-scores', 'Score of quarantined vs kept rows', charts.scoreHistogram, `Each group as a share of its own rows. Score: ${report.isolation.scoreDescription}. Rows the model learned suspiciously fast sit far to the left.`)}
</div>
</section>`;
}

function classCaption(report: AuditReport): string {
  if (report.detection?.split === 'adaptive') {
    return report.summary.quarantined === 0
      ? 'No class was flagged, so nothing was quarantined.'
      : 'Only flagged classes give rows to the quarantine: their rows far below the class’s clean mode (the flagged class in orange).';
  }
  if (report.summary.suspectedTargetClass === null) {
    return 'No class stood out, so the quarantine is the lowest-scored rows overall, whatever their class.';
  }
  return report.isolation.score === 'target-class'
    ? 'The suspected target class (orange) was ranked first, so the quarantine is drawn from it; the evidence for it is its standout, in the verdict.'
    : 'A backdoor relabels its rows to one target class, so poisoned rows pile up in one bar; the suspected target is in orange.';
}

function thumbnailSection(report: AuditReport): string {
  const top = report.figures.topQuarantined;
  if (top.length === 0) return '';
  const shape = report.data.imageShape;
  const size = thumbSize(shape);
  const items = top
    .map((ex) => {
      const truth =
        ex.poisoned === null
          ? ''
          : ex.poisoned
            ? '<span class="badge bad">poisoned</span>'
            : '<span class="badge ok">clean</span>';
      const alt = `rank ${ex.rank + 1}, id ${ex.id}, label ${className(report, ex.label)}`;
      return `<figure class="thumb"><img src="${dataUri(ex.image)}" width="${size}" height="${Math.round((size * shape.height) / shape.width)}" alt="${esc(alt)}"><figcaption><span class="rank">#${ex.rank + 1}</span> <span class="id" title="${esc(ex.id)}">${esc(ex.id)}</span><br>label ${esc(className(report, ex.label))}<br>score ${ex.score === null ? '—' : ex.score.toFixed(2)} ${truth}</figcaption></figure>`;
    })
    .join('');
  const hasTruth = top.some((e) => e.poisoned !== null);
  return `<section id="thumbnails" aria-labelledby="thumbnails-h">
<h2 id="thumbnails-h">Most suspicious quarantined rows</h2>
<p>The ${top.length} top-ranked of ${num(report.summary.quarantined)} quarantined rows, most suspicious first, with their row id, label and score${hasTruth ? ', and the ground truth from the input’s <code>poisoned</code> column (not used by the audit)' : ''}. All quarantined rows are in <code>quarantine/</code>.</p>
<div class="thumbs">${items}</div>
</section>`;
}

/**
 * An image from report.json, only when it is a PNG data URI in base64 (all the audit writes): a
 * report edited by hand cannot smuggle markup or another URL scheme into the page.
 */
function dataUri(uri: string): string {
  return /^data:image\/png;base64,[A-Za-z0-9+/]*={0,2}$/.test(uri) ? uri : 'data:,';
}

/**
 * Display width of thumbnails: about 64 px, small images scaled up by a whole factor (pixel-sharp),
 * large ones shown at most {@link MAX_EMBEDDED_SIDE} wide.
 */
function thumbSize(shape: ReportImageShape): number {
  return shape.width >= 64
    ? Math.min(shape.width, MAX_EMBEDDED_SIDE)
    : shape.width * Math.max(1, Math.round(64 / shape.width));
}

function triggerSection(report: AuditReport, charts: ReportCharts): string {
  const view = report.figures.trigger;
  if (view === null || charts.triggerHeatmap === null) return '';
  const shape = view.imageShape;
  const size = Math.max(112, thumbSize(shape) * 2);
  const filter = report.unlearning.triggerFilter;
  const filterNote = filter
    ? ` The audit also found a shared pixel pattern of ${filter.pixels} pixels in the quarantined rows that other classes lack, and left out ${num(filter.rows)} more rows of this class that carry it.`
    : '';
  return `<section id="trigger" aria-labelledby="trigger-h">
<h2 id="trigger-h">Trigger view</h2>
<p>Label ${esc(className(report, view.label))}: the mean of its ${num(view.quarantinedRows)} quarantined rows minus the mean of its ${num(view.keptRows)} kept rows, per pixel${shape.channels > 1 ? ' (averaged over channels)' : ''}. A patch trigger shows as a sharp spot; a blended or warped trigger as a faint texture over the image; without a backdoor only the class’s ordinary variation remains. The kept rows include any poison the quarantine did not take, which fades the spot without hiding it.${esc(filterNote)}</p>
<div class="trigger">
<figure><img src="${dataUri(view.quarantinedMean)}" width="${size}" height="${Math.round((size * shape.height) / shape.width)}" alt="mean quarantined image"><figcaption>mean quarantined</figcaption></figure>
<figure><img src="${dataUri(view.keptMean)}" width="${size}" height="${Math.round((size * shape.height) / shape.width)}" alt="mean kept image"><figcaption>mean kept</figcaption></figure>
<figure class="chart" id="chart-trigger">${plot('Trigger view heat map', charts.triggerHeatmap)}<figcaption>quarantined − kept (orange: brighter in the quarantined rows, blue: darker)</figcaption></figure>
</div>
</section>`;
}

function isolationSection(report: AuditReport, charts: ReportCharts): string {
  const iso = report.isolation;
  const gaps = iso.classGaps
    ? `<p>Class gaps (median score minus the mean of the class’s lowest scores; the largest is the suspect): ${iso.classGaps
        .map((g, label) => `${esc(className(report, label))} ${g === null ? '—' : g.toFixed(2)}`)
        .join(', ')}.</p>`
    : '';
  return `<section id="isolation" aria-labelledby="isolation-h">
<h2 id="isolation-h">Isolation</h2>
<p>${iso.epochs} epochs of local gradient ascent (${esc(iso.lga)} form, γ = ${iso.gamma}) from scratch; every row’s loss was recorded after each epoch. ${iso.ratio === null ? `${num(iso.isolated)} rows were isolated by the adaptive split (see Evidence per class).` : `The ${num(iso.isolated)} lowest-scored rows (ratio ${iso.ratio}) were isolated.`} Score: ${esc(iso.scoreDescription)}.</p>
${figure('chart-trajectory', 'Loss over the isolation epochs', charts.lossTrajectory, 'Median (line) and 10th–90th percentile (band) of quarantined and kept rows. LGA holds clean rows near γ; a backdoor’s rows keep falling.')}
${gaps}
</section>`;
}

function unlearningSection(report: AuditReport, charts: ReportCharts): string {
  const ul = report.unlearning;
  const g = ul.guard;
  const rows = ul.epochs
    .map(
      (e) =>
        `<tr><td>${e.epoch}</td><td>${esc(e.phase)}</td><td>${e.learningRate}</td><td>${orDash(e.meanObjective, (v) => v.toFixed(3))}</td><td>${pct(e.guardAccuracy)}</td><td>${orDash(e.targetClassAccuracy, (v) => pct(v))}</td><td>${orDash(e.probeTargetRate, (v) => pct(v))}</td><td>${e.isolatedLoss.toFixed(2)}</td><td>${orDash(e.cleanAccuracy, (v) => pct(v))}</td><td>${orDash(e.attackSuccessRate, (v) => pct(v))}</td><td>${e.rolledBack ? `rolled back (${esc(e.stopReason ?? 'guard')})${e.retried ? ', tried again at half the learning rate' : ''}` : ''}</td></tr>`,
    )
    .join('');
  const known = ul.epochs.some((e) => e.cleanAccuracy !== null);
  const fresh = ul.removal !== 'unlearn';
  const table =
    ul.epochs.length === 0
      ? '<p>No unlearning epochs ran.</p>'
      : `<div class="scroll"><table><thead><tr><th>epoch</th><th>phase</th><th>lr</th><th>objective</th><th>held-out acc.</th><th>target-class acc.</th><th>probe → target</th><th>isolated loss</th><th>clean acc.</th><th>attack success</th><th>guard</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  return `<section id="unlearning" aria-labelledby="unlearning-h">
<h2 id="unlearning-h">Retraining and unlearning</h2>
<p>${fresh ? 'A fresh model was trained on the rows the audit trusts' : 'The isolation model trained on'} (removal <code>${esc(ul.removal)}</code>, mode <code>${esc(ul.mode)}</code>); the quarantined rows were ${ul.ascended ? 'unlearned (gradient ascent) while the model trained on the rest' : 'left out of training, not unlearned'}. The guard watched ${num(g.rows)} held-out rows (accuracy ${pct(g.initialAccuracy)} ${fresh ? 'at the random start' : 'before'} → ${pct(g.finalAccuracy)}, allowed drop ${pct(g.maxDrop)}${fresh ? ', judged from the end of the first epoch' : ''})${g.probeRows > 0 ? ` and a backdoor probe of ${num(g.probeRows)} rows (${orDash(g.initialProbeRate, (v) => pct(v))} predicted as the target ${fresh ? 'at the random start' : 'before'}, lowest ${orDash(g.lowestProbeRate, (v) => pct(v))})` : ''}${g.stopped ? '; it stopped training and rolled back to the last good epoch' : ''}.</p>
${figure('chart-unlearning', known ? 'Clean accuracy and attack success while unlearning' : 'Guard measures while unlearning', charts.unlearning, known ? `On the given test sets after each epoch; epoch 0 is ${fresh ? 'the isolation model, which has learned the backdoor (the retrained model starts afresh after it)' : 'the model after isolation, which has learned the backdoor'}.` : `No test sets were given, so these are the guard’s held-out accuracy and the share of suspect rows predicted as the target${fresh ? '; epoch 0 is the fresh model’s random start' : ''}.`)}
${table}
</section>`;
}

function metricsRow(name: string, m: ReportModelMetrics): string {
  return `<tr><th scope="row">${esc(name)}</th><td>${orDash(m.cleanAccuracy?.value, (v) => pct(v, 2))}</td><td>${orDash(m.targetClassAccuracy, (v) => pct(v, 2))}</td><td>${orDash(m.attackSuccessRate?.value, (v) => pct(v, 2))}</td></tr>`;
}

function groundTruthSection(report: AuditReport): string {
  const gt = report.isolation.groundTruth;
  const m = report.metrics;
  const hasModelMetrics = m.cleanedModel.cleanAccuracy !== null || m.cleanedModel.attackSuccessRate !== null;
  if (!gt && !hasModelMetrics) return '';
  let confusion = '';
  if (gt) {
    const fp = gt.isolated - gt.truePositives;
    const fn = gt.poisoned - gt.truePositives;
    const tn = report.summary.rows - gt.isolated - fn;
    confusion = `<h3>Quarantine vs ground truth</h3>
<p>From the input’s <code>poisoned</code> column, read only to score the audit. Precision ${pct(gt.precision)} (at most ${pct(gt.maxPrecision)} possible with ${num(gt.isolated)} rows), recall ${orDash(gt.recall, (v) => pct(v))}, AUROC of the ranking as a poison detector ${orDash(gt.auroc, (v) => v.toFixed(3))}.</p>
<table class="confusion" id="confusion"><thead><tr><th></th><th scope="col">truly poisoned</th><th scope="col">clean</th></tr></thead><tbody>
<tr><th scope="row">quarantined</th><td class="good">${num(gt.truePositives)}</td><td class="bad">${num(fp)}</td></tr>
<tr><th scope="row">kept</th><td class="bad">${num(fn)}</td><td class="good">${num(tn)}</td></tr>
</tbody></table>`;
  }
  const asr = m.cleanedModel.attackSuccessRate ?? m.afterIsolation.attackSuccessRate;
  const metrics = hasModelMetrics
    ? `<h3>Model quality</h3>
<table id="model-metrics"><thead><tr><th></th><th scope="col">clean accuracy</th><th scope="col">target-class accuracy</th><th scope="col">attack success rate</th></tr></thead><tbody>
${metricsRow('after isolation (backdoored start)', m.afterIsolation)}
${metricsRow('cleaned model', m.cleanedModel)}
</tbody></table>
<p class="note">Clean accuracy: share of all ${orDash(m.cleanedModel.cleanAccuracy?.rows, num)} clean test rows predicted as their label, every class included. Attack success rate: share of the ${orDash(asr?.rows, num)} triggered test rows whose true class is not the target that the model puts in target class ${asr ? esc(className(report, asr.target)) : '—'} (${asr?.targetFrom === 'given' ? 'target given by the user' : 'the suspected target'}).</p>`
    : '';
  return `<section id="ground-truth" aria-labelledby="gt-h">
<h2 id="gt-h">Against known answers</h2>
${confusion}
${metrics}
</section>`;
}

function filesTable(name: string, input: { path: string; files: readonly ReportFile[] } | null): string {
  if (!input) return '';
  return input.files
    .map(
      (f, i) =>
        `<tr>${i === 0 ? `<th scope="row" rowspan="${input.files.length}">${esc(name)}</th>` : ''}<td class="path">${esc(f.path)}</td><td>${num(f.bytes)}</td><td class="hash">${esc(f.sha256)}</td></tr>`,
    )
    .join('');
}

/** Nested parameters as `a.b = value` rows, in the report's order. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [[prefix, '{}']] : [];
    return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [
    [
      prefix,
      value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value),
    ],
  ];
}

function kvTable(id: string, rows: readonly [string, string][]): string {
  return `<table class="kv" id="${id}"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function runFactsSection(report: AuditReport): string {
  const b = report.backend;
  const timings = Object.entries(report.timings).map(
    ([k, v]) => [k, `${v.toFixed(1)} s`] as [string, string],
  );
  // Without a source column each file is a source, shown in full in the sources section already.
  const perSource =
    report.data.perSource.length > 1 && report.sources?.column !== null ? perSourceTable(report) : '';
  return `<section id="run" aria-labelledby="run-h">
<h2 id="run-h">Run facts</h2>
<h3>Inputs</h3>
<div class="scroll"><table id="inputs"><thead><tr><th></th><th scope="col">file</th><th scope="col">bytes</th><th scope="col">sha256</th></tr></thead><tbody>
${filesTable('train', report.inputs.train)}${filesTable('test', report.inputs.test)}${filesTable('backdoor test', report.inputs.backdoorTest)}
</tbody></table></div>
${perSource}
<div class="facts">
<div><h3>Run</h3>${kvTable('facts', [
    ['seed', String(report.seed)],
    ['backend', `${b.name} (${b.tfBackend}, ${b.threads} thread${b.threads === 1 ? '' : 's'})`],
    ...b.skipped.map((s) => [`skipped ${s.name}`, s.reason] as [string, string]),
    ['resumed', report.resumed ? 'yes, from a checkpoint' : 'no'],
    [
      'columns',
      `image ${report.data.columns.image}, label ${report.data.columns.label}, id ${report.data.columns.id ?? '(file#row)'}`,
    ],
    ['created', report.createdAt],
  ])}<h3>Timings</h3>${kvTable('timings', timings)}</div>
<div><h3>Parameters</h3>${kvTable('parameters', flatten(report.parameters))}</div>
<div><h3>Versions</h3>${kvTable('versions', Object.entries(report.versions))}</div>
</div>
</section>`;
}

const MAX_SOURCE_ROWS = 50;

function perSourceTable(report: AuditReport): string {
  const files = report.data.perSource;
  const shown = files.slice(0, MAX_SOURCE_ROWS);
  const more = files.length - shown.length;
  return `<h3>Per source file</h3><div class="scroll"><table id="per-source"><thead><tr><th scope="col">file</th><th scope="col">rows</th><th scope="col">quarantined</th></tr></thead><tbody>${shown
    .map(
      (f) =>
        `<tr><td class="path">${esc(f.file)}</td><td>${num(f.rows)}</td><td>${num(f.quarantined)}</td></tr>`,
    )
    .join(
      '',
    )}</tbody></table></div>${more > 0 ? `<p class="note">${more} more files in report.json.</p>` : ''}`;
}
