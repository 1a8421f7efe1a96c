import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { BaseCommand } from '../BaseCommand.js';

/** `abl-audit report`: (re)writes report.html from an audit's report.json and outputs. */
export class ReportCommand extends BaseCommand {
  static override paths = [['report']];
  static override usage = Command.Usage({
    category: 'Audit',
    description: "write report.html from an audit's report.json",
    details: `
      Reads OUT/report.json and writes OUT/report.html: one self-contained page (inline styles, SVG charts and images; no script, no network) that opens from disk and prints. The page is drawn from report.json alone; only reports of audits by earlier versions (which kept no figures) or a \`--thumbnails\` count above the 40 the audit kept read the outputs again (\`scores.parquet\`, \`quarantine/\`, \`clean/\`).

      Every audit already writes report.html; use this command to render it again (after upgrading abl-audit, or for an audit copied from elsewhere), or with \`--html\` to write it somewhere else. Open it with any browser, e.g. \`xdg-open OUT/report.html\` or \`open OUT/report.html\`.

      The page shows the verdict first (poison-found, no-poison-found or inconclusive and why; rows audited, quarantined and in review; the suspected target class; gates), then every class's evidence, per-class counts, score histograms, the top quarantined images, the trigger view (mean quarantined minus mean kept image of the same label), the loss trajectories, the unlearning curve, ground-truth scores when the data had a \`poisoned\` column, and the run's facts (inputs with hashes, parameters, seed, backend, versions, timings).
    `,
    examples: [
      ['Render the demo audit again', '$0 report out/demo'],
      [
        'Write the page elsewhere, showing 80 thumbnails',
        '$0 report out/demo --html /tmp/audit.html --thumbnails 80',
      ],
    ],
  });

  out = Option.String({ name: 'out' });
  html = Option.String('--html', { description: 'Where to write the page (default OUT/report.html)' });
  thumbnails = Option.String('--thumbnails', {
    description:
      'How many of the most suspicious quarantined rows to show (default: the 40 the audit kept; more are read from quarantine/)',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(0)]),
  });

  protected async run(): Promise<number> {
    const [{ readAuditReport }, { writeHtmlReport }] = await Promise.all([
      import('../../report/readAuditReport.js'),
      import('../../pipeline/writeHtmlReport.js'),
    ]);
    const { report, outDir } = await readAuditReport(this.out);
    // Only reports without figures (older audits), or more thumbnails than the audit kept, read the
    // partitions again; the bar shows that read.
    const progress = this.output.progress('report.html', { total: report.summary.rows, unit: 'rows' });
    let path: string;
    try {
      path = await writeHtmlReport(outDir, {
        report,
        thumbnails: this.thumbnails,
        target: this.html,
        onProgress: (rows) => progress.update(rows),
      });
    } finally {
      progress.stop();
    }
    this.output.result(`wrote ${path}\n`, { report: path, status: report.status, summary: report.summary });
    return 0;
  }
}
