import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAuditReport } from '../../src/report/readAuditReport.js';
import { sampleReport } from '../helpers/sampleReport.js';
import { useTempDir } from '../helpers/tempDir.js';
import { runCli } from './runCli.js';

// `abl-audit report OUT` on folders that are not (complete) audits. The happy path renders a real
// audit's outputs in test/integration/audit.test.ts and test/browser/report.test.ts.
const tmp = useTempDir('report-cli-');

describe('abl-audit report', () => {
  it('fails with ABL101 naming report.json when the folder holds no audit', async () => {
    const dir = await tmp.sub('empty');
    const r = await runCli('report', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ABL101: file ${join(dir, 'report.json')}: no audit report here`);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('fails with ABL103 on a report.json that is not JSON, or of another schema', async () => {
    const dir = await tmp.sub('bad');
    await writeFile(join(dir, 'report.json'), '{"schema": "abl-audit/report@1", ');
    const notJson = await runCli('report', dir);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/error ABL103: file .*report\.json: report\.json is not valid JSON/);
    await writeFile(join(dir, 'report.json'), '{"schema": "something-else@9"}');
    const other = await runCli('report', join(dir, 'report.json'));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('schema "something-else@9", expected "abl-audit/report@3"');
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('renders the page from report.json alone: no output of the audit is read', async () => {
    const dir = await tmp.sub('alone');
    await writeFile(join(dir, 'report.json'), JSON.stringify(sampleReport()));
    const r = await runCli('report', dir, '--quiet');
    expect(r.code).toBe(0);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('id="thumbnails"');
    expect(html).toContain('id="trigger"');
  });

  it('names the missing output of an older, figureless audit and writes nothing', async () => {
    const dir = await tmp.sub('incomplete');
    const { figures: _figures, ...older } = sampleReport();
    await writeFile(join(dir, 'report.json'), JSON.stringify(older));
    await mkdir(join(dir, 'quarantine'));
    const r = await runCli('report', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error ABL101: .*scores\.parquet/);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('names a missing report.json given by its path', async () => {
    const missing = join(tmp.path, 'nowhere', 'report.json');
    const r = await runCli('report', missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ABL101: file ${missing}: no audit report here`);
  });

  it('reads a report written before report.html existed (no outputs.html)', async () => {
    const dir = await tmp.sub('older');
    const { html: _html, ...outputs } = sampleReport().outputs;
    await writeFile(join(dir, 'report.json'), JSON.stringify({ ...sampleReport(), outputs }));
    const { report } = await readAuditReport(dir);
    expect(report.outputs.html).toBe('report.html');
  });

  it('reads a report written before it kept figures and its standout threshold', async () => {
    const dir = await tmp.sub('before-figures');
    const { figures: _figures, ...older } = sampleReport();
    const { minStandout: _m, ...isolation } = older.isolation;
    await writeFile(join(dir, 'report.json'), JSON.stringify({ ...older, isolation }));
    const { report } = await readAuditReport(dir);
    expect(report.figures).toBeNull();
    expect(report.isolation.minStandout).toBe(2.5);
  });

  it('reads a report@1 (before the verdict): no verdict, no detection, an empty review band; renders it', async () => {
    const dir = await tmp.sub('report-v1');
    const r = sampleReport();
    const { review: _r, verdict: _v, flaggedClasses: _f, standoutSource: _s, ...summary } = r.summary;
    const { review: _o, sources: _so, ...outputs } = r.outputs;
    const { detection: _d, sources: _src, ...rest } = r;
    const v1 = {
      ...rest,
      schema: 'abl-audit/report@1',
      summary,
      outputs,
      isolation: { ...r.isolation, ratio: 0.01 },
      data: {
        ...r.data,
        perClass: r.data.perClass.map(({ review: _x, ...c }) => c),
        perSource: r.data.perSource.map(({ review: _x, ...s }) => s),
      },
    };
    await writeFile(join(dir, 'report.json'), JSON.stringify(v1));
    const { report } = await readAuditReport(dir);
    expect(report.schema).toBe('abl-audit/report@3');
    expect(report.summary).toMatchObject({
      verdict: null,
      flaggedClasses: [],
      review: 0,
      standoutSource: null,
    });
    expect(report.sources).toBeNull();
    expect(report.detection).toBeNull();
    expect(report.outputs.review).toEqual([]);
    expect(report.data.perClass.every((c) => c.review === 0)).toBe(true);
    const run = await runCli('report', dir);
    expect(run.code).toBe(0);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).not.toContain('id="evidence"');
    expect(html).toContain('isolation ratio 0.01');
  });

  it('reads a report@2 (before the source rollup): no sources, none named; renders it', async () => {
    const dir = await tmp.sub('report-v2');
    const r = sampleReport();
    const { standoutSource: _s, ...summary } = r.summary;
    const { sources: _so, ...outputs } = r.outputs;
    const { sources: _src, ...rest } = r;
    await writeFile(
      join(dir, 'report.json'),
      JSON.stringify({ ...rest, schema: 'abl-audit/report@2', summary, outputs }),
    );
    const { report } = await readAuditReport(dir);
    expect(report.schema).toBe('abl-audit/report@3');
    expect(report.sources).toBeNull();
    expect(report.summary.standoutSource).toBeNull();
    expect(report.outputs.sources).toBeNull();
    const run = await runCli('report', dir);
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).not.toContain('id="sources"');
    expect(html).toContain('id="evidence"');
  });

  it('renders the sources table, the named source first and marked', async () => {
    const dir = await tmp.sub('report-sources');
    await writeFile(join(dir, 'report.json'), JSON.stringify(sampleReport()));
    const run = await runCli('report', dir);
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(
      'Source <strong>vendor &lt;b&gt;</strong> holds 90.0% of the quarantine, 4.5× its share',
    );
    expect(html).toMatch(/<tr class="flagged"><td class="path">vendor &lt;b&gt;<\/td>/);
  });

  it('rejects a bad --thumbnails value with exit code 2', async () => {
    const r = await runCli('report', tmp.path, '--thumbnails', '-3');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--thumbnails');
  });
});
