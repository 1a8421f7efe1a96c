import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  type ReportCharts,
  renderReportHtml,
  verdictSentence,
} from '../../../../src/report/html/renderReportHtml.js';
import { sampleReport } from '../../../helpers/sampleReport.js';

const CHARTS: ReportCharts = {
  classCounts: '<svg id="c1"></svg>',
  scoreHistogram: '<svg id="c2"></svg>',
  lossTrajectory: '<svg id="c3"></svg>',
  unlearning: null,
  triggerHeatmap: '<svg id="c5"></svg>',
};

/** The sample report with a hostile row id among its thumbnails. */
function hostileReport() {
  const r = sampleReport();
  const [first, ...rest] = r.figures.topQuarantined;
  if (!first) throw new Error('the sample report has thumbnails');
  const topQuarantined = [{ ...first, id: '<img src=x onerror=alert(1)>' }, ...rest];
  return { ...r, figures: { ...r.figures, topQuarantined } };
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(hostileReport(), CHARTS);

  it('is one self-contained page: no script, no external stylesheet, image or font', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    // Every image is embedded.
    for (const src of html.matchAll(/<img src="([^"]*)"/g))
      expect(src[1]).toMatch(/^data:image\/png;base64,/);
  });

  it('escapes every value taken from the data', () => {
    expect(html).not.toContain('<img src=x onerror');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('two <b>');
    expect(html).toContain('two &lt;b&gt;');
  });

  it('puts the verdict first, then the charts given, and leaves out the ones not drawn', () => {
    const sections = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(sections[0]).toBe('verdict');
    expect(sections).toEqual([
      'verdict',
      'evidence',
      'sources',
      'quarantine',
      'thumbnails',
      'trigger',
      'isolation',
      'unlearning',
      'ground-truth',
      'run',
    ]);
    for (const id of ['c1', 'c2', 'c3', 'c5']) expect(html).toContain(`<svg id="${id}">`);
    expect(html).not.toContain('id="chart-unlearning"');
  });

  it('shows the thumbnails with rank, label, score and ground truth', () => {
    expect((html.match(/class="thumb"/g) ?? []).length).toBe(2);
    expect(html).toContain('<span class="rank">#1</span>');
    expect(html).toContain('label 2 (two &lt;b&gt;)');
    expect(html).toContain('score -9.50 <span class="badge bad">poisoned</span>');
    expect(html).toContain('<span class="badge ok">clean</span>');
  });

  it('tabulates the quarantine against ground truth', () => {
    const confusion = html.match(/<table class="confusion"[\s\S]*?<\/table>/)?.[0] ?? '';
    // 9 of 10 quarantined rows poisoned; 3 of 12 poisoned kept; 1000 − 10 − 3 clean kept.
    expect(confusion).toMatch(/quarantined<\/th><td class="good">9<\/td><td class="bad">1<\/td>/);
    expect(confusion).toMatch(/kept<\/th><td class="bad">3<\/td><td class="good">987<\/td>/);
  });

  it('lists the run facts: input hash, seed, backend, parameters, timings', () => {
    expect(html).toContain('a'.repeat(64));
    expect(html).toMatch(/<th scope="row">seed<\/th><td>1<\/td>/);
    expect(html).toContain('wasm (wasm, 1 thread)');
    expect(html).toMatch(/<th scope="row">isolation\.gamma<\/th><td>0\.5<\/td>/);
    expect(html).toMatch(/<th scope="row">total<\/th><td>3\.0 s<\/td>/);
  });

  it('shows failed gates first thing', () => {
    const r = sampleReport();
    const failed = renderReportHtml(
      {
        ...r,
        status: 'gate-failed',
        gates: [
          {
            name: 'fail_if_quarantine_fraction_above',
            threshold: 0.005,
            value: 0.01,
            passed: false,
            message: 'quarantine 1% > 0.5%',
          },
        ],
      },
      CHARTS,
    );
    expect(failed).toContain('<p class="status fail" id="status">✗ 1 of 1 gates failed</p>');
    expect(failed).toContain('<li class="fail">✗ quarantine 1% &gt; 0.5%</li>');
  });
});

describe('verdictSentence', () => {
  it("leads with the verdict's explanation and counts the review band", () => {
    expect(verdictSentence(sampleReport())).toBe(
      'The rows of class 2 (two <b>) split into two modes <script>. 10 of 1,000 rows (1.00%) were quarantined, 3 set aside for review. The cleaned model was trained on the rest while unlearning the quarantined rows.',
    );
  });

  it('in a report made before the verdict, names the target and the standout that chose it', () => {
    expect(
      verdictSentence({
        ...sampleReport(),
        detection: null,
        summary: { ...sampleReport().summary, review: 0 },
      }),
    ).toBe(
      '10 of 1,000 rows (1.00%) were quarantined. Class 2 (two <b>) is the suspected backdoor target: its lowest losses stand apart from the rest of the class 3.3× as far as in the median class (2.5 or more counts as clear), the mark of rows learned much faster than their class, so its rows were ranked first. The cleaned model was trained on the rest while unlearning the quarantined rows.',
    );
  });

  it('under a global score, cites how the quarantine concentrates in the target class', () => {
    const r = sampleReport();
    const text = verdictSentence({
      ...r,
      detection: null,
      isolation: { ...r.isolation, score: 'final-loss', targetStandout: null },
    });
    expect(text).toContain(
      "They concentrate in class 2 (two <b>): 90.0% of the quarantine, 3.6× that class's share of the data",
    );
  });

  it('does not mention the guard stopping unlearning when nothing was unlearned', () => {
    const r = sampleReport();
    const text = verdictSentence({
      ...r,
      unlearning: { ...r.unlearning, ascended: false, guard: { ...r.unlearning.guard, stopped: true } },
    });
    expect(text).not.toContain('guard');
    const stopped = verdictSentence({
      ...r,
      unlearning: { ...r.unlearning, guard: { ...r.unlearning.guard, stopped: true } },
    });
    expect(stopped).toContain('The guard stopped unlearning early');
  });

  it('says when no class stands out and nothing was unlearned', () => {
    const r = sampleReport();
    const none = {
      ...r,
      detection: null,
      summary: { ...r.summary, suspectedTargetClass: null },
      isolation: { ...r.isolation, suspectedTarget: null },
      unlearning: { ...r.unlearning, ascended: false },
    };
    const text = verdictSentence(none);
    expect(text).toContain('No class stands out');
    expect(text).toContain('they were not unlearned');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
