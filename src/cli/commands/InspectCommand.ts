import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { formatShape } from '../../data/imageShape.js';
import type { DatasetSummary } from '../../data/summarizeDataset.js';
import { DatasetCommand } from '../DatasetCommand.js';
import { NO_PROGRESS } from '../progress.js';

/** `abl-audit inspect`: what a dataset holds and how abl-audit reads it. */
export class InspectCommand extends DatasetCommand {
  static override paths = [['inspect']];
  static override usage = Command.Usage({
    category: 'Data',
    description: 'show rows, schema, image shape and label histogram of a dataset',
    details: `
      Reads the whole dataset (a Parquet or Arrow IPC file, or a folder of them, hive \`key=value/\` folders included) and decodes every image exactly as the audit will, so any problem an audit would hit is reported here first, with the file, column and row.

      Prints the files, the schema with the role abl-audit gives each column (image, label, id), the image shape and encoding, the label histogram, and the first rows. \`--json\` prints the same as one JSON object.
    `,
    examples: [
      ['Inspect the embedded Fashion-MNIST fixture', '$0 inspect fixtures/fashion-mnist/train.parquet'],
      ['Inspect a partitioned folder, naming the label column', '$0 inspect data/train/ --label-col target'],
      ['Machine-readable summary', '$0 inspect data/train.parquet --json'],
    ],
  });

  input = Option.String({ name: 'dataset' });
  rows = Option.String('--rows', '5', {
    description: 'Rows to preview (default 5)',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(0)]),
  });
  json = Option.Boolean('--json', false, { description: 'Print the summary as JSON on stdout' });

  protected async run(): Promise<number> {
    const { summarizeDataset } = await import('../../data/summarizeDataset.js');
    // `--json` is for scripts reading stdout; they get no progress on stderr either, as before.
    const progress = this.json ? NO_PROGRESS : this.output.progress('reading', { unit: 'rows' });
    let summary: DatasetSummary;
    try {
      summary = await summarizeDataset(this.input, {
        ...this.overrides(),
        previewRows: this.rows,
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.stop();
    }
    this.output.result(this.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary), {
      ...summary,
    });
    return 0;
  }
}

/** The human-readable form of a summary. */
export function formatSummary(s: DatasetSummary): string {
  const lines: string[] = [];
  lines.push(`dataset   ${s.input}`);
  lines.push(`rows      ${s.rows} in ${s.files.length} file${s.files.length === 1 ? '' : 's'}`);
  for (const f of s.files.slice(0, 10)) lines.push(`          ${f.relPath} (${f.format}, ${f.rows} rows)`);
  if (s.files.length > 10) lines.push(`          ... ${s.files.length - 10} more`);
  lines.push(
    `images    column '${s.image.name}', ${s.image.encoding}, ${formatShape(s.image.shape)}, mean pixel ${s.pixelMean.toFixed(1)}`,
  );
  lines.push(
    `ids       ${s.idColumn ? `column '${s.idColumn}'` : 'derived from file and row (<file>#<row>)'}`,
  );
  lines.push('');
  lines.push('schema');
  const width = Math.max(...s.columns.map((c) => c.name.length));
  for (const c of s.columns) {
    lines.push(
      `  ${c.name.padEnd(width)}  ${c.type}${c.nullable ? '' : ' not null'}${c.role ? `  <- ${c.role}` : ''}`,
    );
  }
  lines.push('');
  lines.push('labels');
  const max = Math.max(...s.labelCounts, 1);
  s.labelCounts.forEach((count, label) => {
    const name = s.classNames?.[label];
    const tag = `${label}${name ? ` ${name}` : ''}`;
    const bar = '#'.repeat(Math.round((count / max) * 30));
    lines.push(`  ${tag.padEnd(16)} ${String(count).padStart(7)}  ${bar}`);
  });
  if (s.preview.length) {
    lines.push('');
    lines.push(`first ${s.preview.length} rows`);
    for (const row of s.preview) {
      const others = Object.entries(row.values)
        .filter(([k]) => k !== s.image.name)
        .map(([k, v]) => `${k}=${v}`)
        .join('  ');
      lines.push(`  ${others}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
