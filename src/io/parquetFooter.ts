import {
  decodeThriftStruct,
  encodeThriftStruct,
  type ThriftStruct,
  type ThriftValue,
} from './thriftCompact.js';

/**
 * The parts of a Parquet footer (Thrift `FileMetaData`) needed to read one row group at a time, and to
 * repackage one row group as a Parquet file of its own.
 *
 * Why repackage: parquet-wasm's synchronous `readParquet` reports a corrupt row group as an ordinary
 * error, while its lazy `ParquetFile.read` turns any decoding error into a WebAssembly trap that
 * escapes as an uncaught exception and leaves the read pending forever (parquet-wasm 0.8.0,
 * `reader_async.rs` unwraps the row group stream). Giving `readParquet` a small file holding just one
 * row group keeps both clean errors and memory bounded by the row group.
 */

/** Where one row group's column chunks lie in the file. */
export interface ParquetRowGroupExtent {
  readonly numRows: number;
  /** First byte of the row group's first column chunk. */
  readonly start: number;
  /** One past the last byte of its last column chunk. */
  readonly end: number;
}

/** A parsed Parquet footer. */
export interface ParquetFooter {
  /** The decoded `FileMetaData`, kept whole so that repackaging passes unknown fields through. */
  readonly fileMetaData: ThriftStruct;
  readonly rowGroups: readonly ParquetRowGroupExtent[];
}

// Thrift field ids from parquet.thrift.
const FILE_NUM_ROWS = 3;
const FILE_ROW_GROUPS = 4;
const RG_COLUMNS = 1;
const RG_NUM_ROWS = 3;
const RG_FILE_OFFSET = 5;
const CHUNK_FILE_OFFSET = 2;
const CHUNK_META = 3;
// Page index locations: they point outside the column chunks, so a repackaged file drops them.
const CHUNK_PAGE_INDEX_FIELDS = [4, 5, 6, 7];
const META_TOTAL_COMPRESSED_SIZE = 7;
const META_DATA_PAGE_OFFSET = 9;
const META_INDEX_PAGE_OFFSET = 10;
const META_DICTIONARY_PAGE_OFFSET = 11;
// Bloom filters also live outside the chunks.
const META_BLOOM_FIELDS = [14, 15];

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/**
 * Decodes a Parquet footer and finds each row group's byte range, as arrow-rs computes it: from the
 * dictionary page (or the first data page) to the end of the compressed chunk.
 *
 * @example
 * ```ts
 * const { rowGroups } = parseParquetFooter(footerBytes);
 * console.log(rowGroups.map((g) => g.numRows));
 * ```
 * @see rowGroupAsFile
 * @param footer - the Thrift-encoded `FileMetaData` (without the length and magic that follow it).
 * @returns the metadata and the row groups' extents.
 * @throws Error when the footer does not decode or lacks a required field.
 */
export function parseParquetFooter(footer: Uint8Array): ParquetFooter {
  const fileMetaData = decodeThriftStruct(footer);
  const groups = list(fileMetaData, FILE_ROW_GROUPS, 'FileMetaData.row_groups');
  const rowGroups = groups.map((g, i) => {
    const rg = struct(g, `row group ${i}`);
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const c of list(rg, RG_COLUMNS, `row group ${i} columns`)) {
      const meta = struct(field(struct(c, 'column chunk'), CHUNK_META, 'ColumnChunk.meta_data'), 'meta_data');
      const dict = optionalInt(meta, META_DICTIONARY_PAGE_OFFSET);
      const chunkStart = dict ?? int(meta, META_DATA_PAGE_OFFSET, 'data_page_offset');
      const size = int(meta, META_TOTAL_COMPRESSED_SIZE, 'total_compressed_size');
      if (chunkStart < 0 || size < 0) throw new Error(`row group ${i} has a negative chunk offset or size`);
      start = Math.min(start, chunkStart);
      end = Math.max(end, chunkStart + size);
    }
    const numRows = int(rg, RG_NUM_ROWS, 'RowGroup.num_rows');
    return { numRows, start: Number.isFinite(start) ? start : 0, end };
  });
  return { fileMetaData, rowGroups };
}

/**
 * Lays out a complete Parquet file holding only row group `group`: room for its bytes, and the original
 * footer with every other row group removed and this one's offsets moved to where its bytes now start.
 * The caller reads the row group's bytes (`[extent.start, extent.end)` of the original file) straight
 * into `body`, so they are copied once.
 *
 * @example
 * ```ts
 * const { file, body } = rowGroupAsFile(footer, g);
 * await handle.read(body, 0, body.length, footer.rowGroups[g].start);
 * const table = readParquet(file);
 * ```
 * @see parseParquetFooter
 * @param footer - the parsed footer of the original file.
 * @param group - index of the row group.
 * @param scratch - a buffer to lay the file out in when it is large enough (a new one is made if not),
 *   so that reading row group after row group does not leave one dead buffer per row group.
 * @returns the new file (complete once `body` is filled) and `body`, the view of it to fill.
 */
export function rowGroupAsFile(
  footer: ParquetFooter,
  group: number,
  scratch?: Uint8Array,
): { readonly file: Uint8Array; readonly body: Uint8Array } {
  const extent = footer.rowGroups[group] as ParquetRowGroupExtent;
  // New offset = old offset - shift: the row group's bytes now begin right after the leading magic.
  const shift = BigInt(extent.start - MAGIC.length);
  const move = (v: ThriftValue | undefined): ThriftValue | undefined =>
    v?.kind === 'i64' && v.value >= BigInt(extent.start) ? { kind: 'i64', value: v.value - shift } : v;

  const rg = new Map(struct(list(footer.fileMetaData, FILE_ROW_GROUPS, 'row_groups')[group], 'row group'));
  const columns = list(rg, RG_COLUMNS, 'columns').map((c): ThriftValue => {
    const chunk = new Map(struct(c, 'column chunk'));
    for (const id of CHUNK_PAGE_INDEX_FIELDS) chunk.delete(id);
    setIfPresent(chunk, CHUNK_FILE_OFFSET, move(chunk.get(CHUNK_FILE_OFFSET)));
    const meta = new Map(struct(chunk.get(CHUNK_META), 'meta_data'));
    for (const id of META_BLOOM_FIELDS) meta.delete(id);
    for (const id of [META_DATA_PAGE_OFFSET, META_INDEX_PAGE_OFFSET, META_DICTIONARY_PAGE_OFFSET])
      setIfPresent(meta, id, move(meta.get(id)));
    chunk.set(CHUNK_META, { kind: 'struct', fields: meta });
    return { kind: 'struct', fields: chunk };
  });
  rg.set(RG_COLUMNS, { kind: 'list', elementType: 12, items: columns });
  setIfPresent(rg, RG_FILE_OFFSET, move(rg.get(RG_FILE_OFFSET)));

  const meta = new Map(footer.fileMetaData);
  meta.set(FILE_NUM_ROWS, { kind: 'i64', value: BigInt(extent.numRows) });
  meta.set(FILE_ROW_GROUPS, { kind: 'list', elementType: 12, items: [{ kind: 'struct', fields: rg }] });
  const encoded = encodeThriftStruct(meta);

  const size = extent.end - extent.start;
  const length = MAGIC.length + size + encoded.length + 8;
  const file = scratch && scratch.length >= length ? scratch.subarray(0, length) : new Uint8Array(length);
  file.set(MAGIC, 0);
  file.set(encoded, MAGIC.length + size);
  new DataView(file.buffer, file.byteOffset, file.length).setUint32(file.length - 8, encoded.length, true);
  file.set(MAGIC, file.length - 4);
  return { file, body: file.subarray(MAGIC.length, MAGIC.length + size) };
}

function setIfPresent(s: ThriftStruct, id: number, v: ThriftValue | undefined): void {
  if (v !== undefined) s.set(id, v);
}

function field(s: ThriftStruct, id: number, what: string): ThriftValue {
  const v = s.get(id);
  if (v === undefined) throw new Error(`Parquet footer lacks ${what}`);
  return v;
}

function struct(v: ThriftValue | undefined, what: string): ThriftStruct {
  if (v?.kind !== 'struct') throw new Error(`Parquet footer: ${what} is not a struct`);
  return v.fields;
}

function list(s: ThriftStruct, id: number, what: string): readonly ThriftValue[] {
  const v = field(s, id, what);
  if (v.kind !== 'list') throw new Error(`Parquet footer: ${what} is not a list`);
  return v.items;
}

function optionalInt(s: ThriftStruct, id: number): number | undefined {
  const v = s.get(id);
  if (v === undefined) return undefined;
  if (v.kind === 'i64') return Number(v.value);
  if (v.kind === 'i32' || v.kind === 'i16' || v.kind === 'i8') return v.value;
  throw new Error(`Parquet footer: field ${id} is not an integer`);
}

function int(s: ThriftStruct, id: number, what: string): number {
  const v = optionalInt(s, id);
  if (v === undefined) throw new Error(`Parquet footer lacks ${what}`);
  return v;
}
