/**
 * The report's stylesheet, inlined into the page. System fonts (nothing to download), a width that
 * reads on a laptop, text colours at WCAG AA contrast or better, and print rules that keep each
 * figure and table on one page.
 */
export const REPORT_CSS = `
:root { --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --bg-soft: #f6f8fa; --pass: #116329; --fail: #a40e26; --q: #b34700; --k: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
.sub, .note, .card-note, figcaption { color: var(--muted); }
.sub { margin: 0 0 12px; word-break: break-all; }
code { background: var(--bg-soft); padding: 0 4px; border-radius: 4px; font-size: 90%; }
.status { display: inline-block; font-weight: 600; padding: 4px 12px; border-radius: 16px; margin: 4px 0; }
.status.pass { color: var(--pass); background: #dafbe1; }
.status.fail { color: var(--fail); background: #ffebe9; }
.status.neutral { color: var(--muted); background: var(--bg-soft); }
.verdict-poison-found { color: var(--fail); }
.verdict-no-poison-found { color: var(--pass); }
.verdict-inconclusive { color: var(--muted); }
table.evidence tr.call-flagged td, #sources-table tr.flagged td { font-weight: 600; color: var(--fail); }
.lead { font-size: 17px; max-width: 75ch; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--bg-soft); }
.card-label { font-size: 13px; color: var(--muted); }
.card-value { font-size: 24px; font-weight: 600; }
.card-value small { font-size: 14px; font-weight: normal; }
.card-note { font-size: 12px; }
ul.gates { list-style: none; padding: 0; }
ul.gates li.pass { color: var(--pass); }
ul.gates li.fail { color: var(--fail); font-weight: 600; }
.figures { display: flex; flex-wrap: wrap; gap: 24px; }
.figures > figure { flex: 1 1 480px; max-width: 560px; }
figure { margin: 0; }
figure.chart { max-width: 100%; }
figure.chart figcaption { max-width: 560px; margin-bottom: 6px; font-size: 14px; }
.plot svg { max-width: 100%; height: auto; display: block; }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 10px; }
.thumb { border: 1px solid var(--line); border-radius: 6px; padding: 6px; text-align: center; background: #fff; }
.thumb img, .trigger img { image-rendering: pixelated; background: #000; display: block; margin: 0 auto; }
.thumb img { max-width: 100%; height: auto; }
.thumb figcaption { font-size: 12px; line-height: 1.35; margin-top: 4px; overflow-wrap: anywhere; }
.thumb .rank { font-weight: 600; color: var(--fg); }
.thumb .id { font-family: ui-monospace, monospace; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; }
.badge.bad { color: #fff; background: var(--q); }
.badge.ok { color: #fff; background: var(--k); }
.trigger { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.trigger figcaption { font-size: 13px; text-align: center; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg-soft); }
td { font-variant-numeric: tabular-nums; }
table.confusion td { text-align: right; min-width: 90px; }
table.confusion td.good { color: var(--pass); font-weight: 600; }
table.confusion td.bad { color: var(--fail); }
table.kv th { font-weight: normal; color: var(--muted); white-space: nowrap; }
td.hash, td.path { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
footer { margin-top: 40px; padding-top: 12px; padding-bottom: 24px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
a { color: var(--k); }
@media print {
  body { font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, table, .card, .thumb { break-inside: avoid; }
  .scroll { overflow: visible; }
  a { color: inherit; }
  .status, .card, thead th, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { margin: 15mm; }
`;
