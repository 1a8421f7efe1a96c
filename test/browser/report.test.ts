import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/runCli.js';
import { useTempDir } from '../helpers/tempDir.js';

// report.html from a small audit of the BadNets fixture, opened in Debian's Chromium (installed by
// scripts/setup.sh) the way a person opens it: from disk, with the network shut off.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The flags the machine notes prescribe: without the background-networking ones Chromium keeps
// trying hosts this machine cannot reach.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots for people to look at; not committed (see .gitignore). */
const SHOTS = resolve('test-output');

const tmp = useTempDir('report-browser-');
let out: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  out = join(tmp.path, 'audit');
  const run = await runCli(
    'audit',
    resolve('fixtures/fashion-mnist-badnets/train.parquet'),
    '--out',
    out,
    '--test',
    resolve('fixtures/fashion-mnist/test.parquet'),
    '--backdoor-test',
    resolve('fixtures/fashion-mnist-badnets/test-backdoor.parquet'),
    '--isolation-epochs',
    '2',
    '--unlearn-epochs',
    '2',
    '--seed',
    '1',
    '--backend',
    'wasm',
    '--quiet',
  );
  expect(run.code, run.stderr).toBe(0);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(join(out, 'report.html')).href, { waitUntil: 'load' });
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

/** The parts of a browser's HTMLImageElement the tests read (the project compiles without the DOM lib). */
interface ImageElement {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  readonly width: number;
  readonly height: number;
}

/** Width and height of an element as laid out. */
async function box(selector: string): Promise<{ width: number; height: number }> {
  const b = await page.locator(selector).first().boundingBox();
  expect(b, `${selector} is laid out`).not.toBeNull();
  return b as { width: number; height: number };
}

describe('report.html in Chromium', () => {
  it('loads from disk without console errors or any network request', () => {
    expect(problems).toEqual([]);
  });

  it('puts the verdict first: the verdict, rows, quarantine, suspected target, gates; then the evidence', async () => {
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const quarantined = report.summary.quarantined as number;
    const sections = await page.locator('main > section').evaluateAll((s) => s.map((e) => e.id));
    expect(sections.slice(0, 2)).toEqual(['verdict', 'evidence']);
    const verdict = await page.locator('#verdict').textContent();
    expect(verdict).toContain('The rows of class 0 (T-shirt/top) split into two modes');
    expect(verdict).toMatch(new RegExp(`${quarantined} of 3,000 rows \\(\\d+\\.\\d\\d%\\) were quarantined`));
    expect(await page.locator('#verdict .verdict').textContent()).toBe('poison-found');
    expect(await page.locator('#status').textContent()).toBe('No gates configured');
    expect(await page.title()).toBe(`ABL audit: poison-found, ${quarantined} of 3000 rows quarantined`);
    // One row per class in the evidence table, the flagged one marked.
    expect(await page.locator('#evidence tbody tr').count()).toBe(10);
    expect(await page.locator('#evidence tr.call-flagged').count()).toBe(1);
  });

  it('renders every chart as a non-empty SVG of the expected size', async () => {
    for (const id of [
      'chart-classes',
      'chart-scores',
      'chart-trajectory',
      'chart-unlearning',
      'chart-trigger',
    ]) {
      const b = await box(`#${id} svg`);
      expect(b.width, id).toBeGreaterThan(250);
      expect(b.height, id).toBeGreaterThan(150);
      // Marks, not an empty frame: bars, lines or heat-map cells drawn by Vega.
      const marks = await page
        .locator(`#${id} svg .mark-rect path, #${id} svg .mark-line path, #${id} svg .mark-area path`)
        .count();
      expect(marks, id).toBeGreaterThan(0);
    }
    // 28 × 28 heat-map cells.
    expect(await page.locator('#chart-trigger svg .mark-rect.role-mark path').count()).toBe(784);
  });

  it('shows the top quarantined rows as decoded thumbnails with id, label and score', async () => {
    const thumbs = page.locator('#thumbnails .thumb');
    // The 40 most suspicious quarantined rows are kept for the page.
    expect(await thumbs.count()).toBe(40);
    const sizes = await page
      .locator('#thumbnails .thumb img')
      .evaluateAll((imgs) =>
        (imgs as unknown as ImageElement[]).map((i) => [
          i.complete,
          i.naturalWidth,
          i.naturalHeight,
          i.width,
          i.height,
        ]),
      );
    for (const s of sizes) expect(s).toEqual([true, 28, 28, 56, 56]);
    const caption = await thumbs.first().locator('figcaption').textContent();
    expect(caption).toMatch(/^#1 \S+label 0 \(T-shirt\/top\)score -?\d+\.\d\d (poisoned|clean)$/);
  });

  it('draws the trigger view and the ground-truth tables', async () => {
    const means = await page
      .locator('#trigger img')
      .evaluateAll((imgs) => (imgs as unknown as ImageElement[]).map((i) => i.naturalWidth));
    expect(means).toEqual([28, 28]);
    // Quarantined × {poisoned, clean}, kept × {poisoned, clean}: the rows add up to the audit's counts.
    const cells = (await page.locator('#confusion td').allTextContents()).map((t) =>
      Number(t.replace(/,/g, '')),
    );
    expect(cells).toHaveLength(4);
    const [tp, fp, fn, tn] = cells as [number, number, number, number];
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(tp + fp).toBe(report.summary.quarantined);
    expect(tp + fp + fn + tn).toBe(3000);
    expect(tp + fn).toBe(270);
    expect(await page.locator('#model-metrics tbody tr').count()).toBe(2);
    expect(await page.locator('#inputs').textContent()).toMatch(/[0-9a-f]{64}/);
  });

  it('prints', async () => {
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(50_000);
  });

  it('saves screenshots under test-output/', async () => {
    await mkdir(SHOTS, { recursive: true });
    const top = join(SHOTS, 'report.png');
    const full = join(SHOTS, 'report-full.png');
    await page.screenshot({ path: top });
    await page.screenshot({ path: full, fullPage: true });
    const png = await readFile(top);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect((await stat(full)).size).toBeGreaterThan((await stat(top)).size);
  });
});
