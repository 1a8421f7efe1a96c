import type { AuditReport } from '../auditReport.js';
import { escapeHtml as esc } from './escapeHtml.js';

/** Sources shown on the page; report.json and sources.parquet hold them all. */
const MAX_SOURCES_SHOWN = 50;

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * The per-source table: each upstream source's rows, quarantine and review band, its share of the
 * quarantine and its lift over its share of the data, the likeliest origin of the poison first and
 * marked when it stands out. Nothing for a report without sources or with a single one.
 */
export function sourcesSection(report: AuditReport): string {
  const sources = report.sources;
  if (!sources || sources.entries.length < 2) return '';
  const shown = sources.entries.slice(0, MAX_SOURCES_SHOWN);
  const more = sources.entries.length - shown.length;
  const by = sources.column === null ? 'file' : `column <code>${esc(sources.column)}</code>`;
  const named = report.summary.standoutSource;
  const lead = named
    ? `<p class="lead">Source <strong>${esc(named)}</strong> holds ${pct(shown[0]?.quarantineShare ?? 0)} of the quarantine, ${(shown[0]?.lift ?? 0).toFixed(1)}× its share of the data: the likely origin of the poison.</p>`
    : '<p class="note">No source stands out: the quarantine is spread over the sources about as the data is, or there is too little of it to tell.</p>';
  const rows = shown
    .map(
      (e) =>
        `<tr${e.source === named ? ' class="flagged"' : ''}><td class="path">${esc(e.source)}</td><td>${e.rows.toLocaleString('en-US')}</td><td>${e.quarantined.toLocaleString('en-US')}</td><td>${e.review.toLocaleString('en-US')}</td><td>${pct(e.quarantineShare)}</td><td>${pct(e.dataShare)}</td><td>${e.lift.toFixed(2)}×</td><td>${pct(e.quarantineRate)}</td></tr>`,
    )
    .join('');
  return `<section id="sources" aria-labelledby="sources-h">
<h2 id="sources-h">Sources</h2>
${lead}
<p class="note">One row per source (by ${by}), the likeliest origin first. Named when ${esc(sources.rule)}. Also in <code>sources.parquet</code>.</p>
<div class="scroll"><table id="sources-table"><thead><tr><th scope="col">source</th><th scope="col">rows</th><th scope="col">quarantined</th><th scope="col">review</th><th scope="col">share of quarantine</th><th scope="col">share of data</th><th scope="col">lift</th><th scope="col">quarantined of its rows</th></tr></thead><tbody>${rows}</tbody></table></div>${more > 0 ? `<p class="note">${more} more sources in report.json and sources.parquet.</p>` : ''}
</section>`;
}
