import { type Field, Type } from 'apache-arrow';
import { lastValueFrom, tap } from 'rxjs';
import type { DataFile } from '../io/dataFile.js';
import { listDataFiles } from '../io/listDataFiles.js';
import { readDataset } from '../io/readDataset.js';
import { decodeExamples } from './decodeExamples.js';
import type { ImageShape } from './imageShape.js';
import type { ColumnOverrides, DatasetColumns } from './inferColumns.js';

/** One column of the dataset's schema, as shown by `abl-audit inspect`. */
export interface ColumnSummary {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  /** What abl-audit uses the column for, if anything. */
  readonly role: 'image' | 'label' | 'id' | null;
}

/** What `abl-audit inspect` reports about a dataset. */
export interface DatasetSummary {
  readonly input: string;
  readonly files: readonly {
    readonly relPath: string;
    readonly format: DataFile['format'];
    readonly rows: number;
  }[];
  readonly rows: number;
  readonly columns: readonly ColumnSummary[];
  readonly image: DatasetColumns['image'] & { readonly shape: ImageShape };
  readonly idColumn: string | null;
  readonly classNames: readonly string[] | null;
  /** Row count per label value, index = label. */
  readonly labelCounts: readonly number[];
  /** The first rows: ids, labels, and the other columns' values as printable text. */
  readonly preview: readonly {
    readonly id: string;
    readonly label: number;
    readonly values: Readonly<Record<string, string>>;
  }[];
  /** Mean pixel value (0-255) over the whole dataset, a quick sanity check of the decoding. */
  readonly pixelMean: number;
}

/** Options of {@link summarizeDataset}. */
export interface SummarizeOptions extends ColumnOverrides {
  /** Rows to preview (default 5). */
  readonly previewRows?: number;
  /** Called after each batch with the rows done so far, for progress display. */
  readonly onProgress?: (rowsDone: number) => void;
}

/**
 * Reads a whole dataset once, decoding and checking every row as the audit would, and summarises it:
 * files, schema with the inferred roles, image shape and encoding, label histogram and a preview.
 *
 * @param input - a Parquet/Arrow file or folder.
 * @throws the {@link DataError}s and {@link IoError}s of the read and decode stages.
 */
export async function summarizeDataset(
  input: string,
  options: SummarizeOptions = {},
): Promise<DatasetSummary> {
  const files = await listDataFiles(input);
  const rowsPerFile = new Map<string, number>();
  const labelCounts: number[] = [];
  const preview: { id: string; label: number; values: Record<string, string> }[] = [];
  const wanted = options.previewRows ?? 5;
  // Filled in by the stream's callbacks; an object so TypeScript does not narrow them to their initial value.
  const seen: { columns?: DatasetColumns; shape?: ImageShape; fields?: readonly Field[] } = {};
  let rows = 0;
  let pixelSum = 0;
  let pixelCount = 0;

  await lastValueFrom(
    readDataset(files).pipe(
      tap((sb) => {
        seen.fields ??= sb.batch.schema.fields;
      }),
      decodeExamples({ ...options, source: input, onColumns: (c) => (seen.columns = c) }),
      tap((ex) => {
        seen.shape = ex.shape;
        rows += ex.ids.length;
        rowsPerFile.set(ex.file.relPath, (rowsPerFile.get(ex.file.relPath) ?? 0) + ex.ids.length);
        for (const label of ex.labels) labelCounts[label] = (labelCounts[label] ?? 0) + 1;
        for (let i = 0; i < ex.images.length; i++) pixelSum += ex.images[i] as number;
        pixelCount += ex.images.length;
        for (let r = 0; preview.length < wanted && r < ex.ids.length; r++) {
          const values: Record<string, string> = {};
          for (const f of ex.batch.schema.fields)
            values[f.name] = printable(ex.batch.getChild(f.name)?.get(r), f);
          preview.push({ id: ex.ids[r] as string, label: ex.labels[r] as number, values });
        }
        options.onProgress?.(rows);
      }),
    ),
  );
  const { columns: cols, shape, fields } = seen;
  // decodeExamples errors on an empty dataset, so a completed stream has seen at least one batch.
  if (!cols || !shape || !fields) throw new Error('internal: dataset stream completed without a batch');
  const roleOf = (name: string): ColumnSummary['role'] =>
    name === cols.image.name ? 'image' : name === cols.label ? 'label' : name === cols.id ? 'id' : null;
  return {
    input,
    files: files.map((f) => ({
      relPath: f.relPath,
      format: f.format,
      rows: rowsPerFile.get(f.relPath) ?? 0,
    })),
    rows,
    columns: fields.map((f) => ({
      name: f.name,
      type: String(f.type),
      nullable: f.nullable,
      role: roleOf(f.name),
    })),
    image: { ...cols.image, shape },
    idColumn: cols.id,
    classNames: cols.classNames,
    labelCounts: Array.from({ length: labelCounts.length }, (_, i) => labelCounts[i] ?? 0),
    preview,
    pixelMean: pixelCount ? pixelSum / pixelCount : 0,
  };
}

function printable(value: unknown, field: Field): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (
    field.type.typeId === Type.Struct ||
    field.type.typeId === Type.List ||
    field.type.typeId === Type.FixedSizeList
  ) {
    const text = JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? String(v) : v,
    );
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }
  return String(value);
}
