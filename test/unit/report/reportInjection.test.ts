import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AblError, ErrorCode } from '../../../src/errors.js';
import { renderHtmlReport } from '../../../src/report/html/renderHtmlReport.js';
import { readAuditReport } from '../../../src/report/readAuditReport.js';
import { mulberry32 } from '../../../src/util/random.js';
import { sampleReport } from '../../helpers/sampleReport.js';
import { useTempDir } from '../../helpers/tempDir.js';

// A report.json edited by hand or by an attacker must never put markup into report.html: every field
// is either refused by the schema check (a string where a number belongs) or escaped in the page.
const tmp = useTempDir('report-injection-');
const CASES = Number(process.env.ABL_REPORT_FUZZ_CASES ?? 1);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every leaf of a JSON value, as a path of keys and indices. */
function leaves(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    const out = entries.flatMap(([k, v]) => leaves(v, [...path, k]));
    return out.length > 0 ? out : [path];
  }
  return [path];
}

function setAt(value: Json, path: readonly (string | number)[], leaf: Json): Json {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    Json
  >;
  copy[head as string | number] = setAt(copy[head as string | number] as Json, rest, leaf);
  return copy as Json;
}

/** A random string made of what breaks HTML, with a marker that must never appear unescaped. */
function hostile(rng: () => number): string {
  const pieces = [
    '<script>pwn()</script>',
    '"><img src=x onerror=pwn()>',
    "'",
    '&amp;',
    '</section>',
    'data:text/html,<b>',
    '\u0000',
    '😀',
  ];
  let s = '';
  for (let i = 0; i < 1 + Math.floor(rng() * 4); i++) s += pieces[Math.floor(rng() * pieces.length)];
  return s;
}

describe('report.json fields with hostile strings', () => {
  it('are refused by the schema check or escaped in the page, field by field', async () => {
    const base = JSON.parse(JSON.stringify(sampleReport())) as Json;
    const paths = leaves(base).filter((p) => p[0] !== 'schema');
    const rng = mulberry32(11);
    let refused = 0;
    let rendered = 0;
    for (let round = 0; round < CASES; round++) {
      for (const path of paths) {
        const file = join(tmp.path, 'report.json');
        await writeFile(file, JSON.stringify(setAt(base, path, hostile(rng))));
        let report: Awaited<ReturnType<typeof readAuditReport>>['report'];
        try {
          ({ report } = await readAuditReport(file));
        } catch (error) {
          expect(error, path.join('.')).toBeInstanceOf(AblError);
          expect((error as AblError).code, path.join('.')).toBe(ErrorCode.CorruptFile);
          expect((error as AblError).message).toContain('report.json is not a valid report');
          refused++;
          continue;
        }
        if (report.figures === null) continue;
        const html = await renderHtmlReport({ ...report, figures: report.figures });
        expect(html, path.join('.')).not.toMatch(/<script|<img src=x|<b>/i);
        // An attribute injected into a real tag: look at tags with their (escaped) quoted values removed.
        expect(html.replace(/"[^"]*"/g, '""'), path.join('.')).not.toMatch(/<[^>]*onerror/i);
        rendered++;
      }
    }
    // Both kinds of field exist: numbers and enums refused, free text escaped.
    expect(refused).toBeGreaterThan(50);
    expect(rendered).toBeGreaterThan(20);
  }, 600_000);

  it('names the field a tampered number is in', async () => {
    const r = sampleReport();
    const file = join(tmp.path, 'tampered.json');
    await writeFile(
      file,
      JSON.stringify({ ...r, isolation: { ...r.isolation, gamma: '<script>x</script>' } }),
    );
    const error = await readAuditReport(file).catch((e: unknown) => e as AblError);
    expect(error).toBeInstanceOf(AblError);
    expect((error as AblError).message).toMatch(/isolation\.gamma/);
  });
});
