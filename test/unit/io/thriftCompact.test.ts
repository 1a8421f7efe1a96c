import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeThriftStruct, encodeThriftStruct, type ThriftStruct } from '../../../src/io/thriftCompact.js';
import { writeParquet } from '../../../src/io/writeParquet.js';
import { batchOf, binaries, int32s, strings } from '../../helpers/arrow.js';
import { duckWriteParquet } from '../../helpers/duckdb.js';
import { md5ImageSql } from '../../helpers/images.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('thrift-');

/** The Thrift footer bytes of a Parquet file. */
async function footerOf(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  const length = bytes.readUInt32LE(bytes.length - 8);
  return new Uint8Array(bytes.subarray(bytes.length - 8 - length, bytes.length - 8));
}

describe('thrift compact protocol', () => {
  const footers: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    for (const codec of ['zstd', 'snappy', 'gzip', 'uncompressed'] as const) {
      const path = join(tmp.path, `duck-${codec}.parquet`);
      await duckWriteParquet(
        `SELECT i AS id, 'c' || (i % 3)::VARCHAR AS name, ${md5ImageSql('i', 32)} AS image, [i, i + 1] AS tags FROM range(5000) t(i)`,
        path,
        { compression: codec, rowGroupSize: 2048 },
      );
      footers[`duckdb ${codec}`] = await footerOf(path);
    }
    const ours = join(tmp.path, 'ours.parquet');
    const table = new Table([
      batchOf({
        id: strings(['a', 'b', 'c']),
        label: int32s([0, 1, 2]),
        image: binaries([null, Uint8Array.of(1), Uint8Array.of(2)]),
      }),
    ]);
    await writeParquet(ours, table, { rowGroupSize: 2, metadata: { 'abl_audit.image_shape': '1,1,1' } });
    footers['abl-audit (arrow-rs)'] = await footerOf(ours);
  });

  it('re-encodes real Parquet footers byte for byte', () => {
    expect(Object.keys(footers)).toHaveLength(5);
    for (const [name, bytes] of Object.entries(footers)) {
      const again = encodeThriftStruct(decodeThriftStruct(bytes));
      expect({ name, same: Buffer.from(again).equals(Buffer.from(bytes)) }).toEqual({ name, same: true });
    }
  });

  it('round-trips every value kind, long lists and far field ids', () => {
    const inner: ThriftStruct = new Map([
      [1, { kind: 'bool', value: false }],
      [2, { kind: 'binary', bytes: new TextEncoder().encode('inner') }],
    ]);
    const original: ThriftStruct = new Map([
      [1, { kind: 'bool', value: true }],
      [2, { kind: 'bool', value: false }],
      [3, { kind: 'i8', value: -7 }],
      [4, { kind: 'i16', value: -300 }],
      [5, { kind: 'i32', value: -2_000_000_000 }],
      [6, { kind: 'i64', value: -(2n ** 62n) }],
      [7, { kind: 'i64', value: 2n ** 62n + 5n }],
      [8, { kind: 'double', bytes: new Uint8Array(new Float64Array([Math.PI]).buffer) }],
      [9, { kind: 'binary', bytes: new Uint8Array(300).fill(9) }],
      // 20 items: more than fit the short list header.
      [
        10,
        {
          kind: 'list',
          elementType: 5,
          items: Array.from({ length: 20 }, (_, i) => ({ kind: 'i32' as const, value: i - 10 })),
        },
      ],
      [
        11,
        {
          kind: 'list',
          elementType: 1,
          items: [
            { kind: 'bool', value: true },
            { kind: 'bool', value: false },
          ],
        },
      ],
      [12, { kind: 'set', elementType: 8, items: [{ kind: 'binary', bytes: Uint8Array.of(1) }] }],
      [
        13,
        {
          kind: 'map',
          keyType: 8,
          valueType: 12,
          entries: [
            [
              { kind: 'binary', bytes: Uint8Array.of(65) },
              { kind: 'struct', fields: inner },
            ],
          ],
        },
      ],
      [14, { kind: 'map', keyType: 0, valueType: 0, entries: [] }],
      [15, { kind: 'uuid', bytes: new Uint8Array(16).fill(3) }],
      // A jump of more than 15 needs the long field header; a lower id after a higher one too.
      [100, { kind: 'struct', fields: inner }],
      [40, { kind: 'list', elementType: 12, items: [{ kind: 'struct', fields: new Map() }] }],
    ]);
    const bytes = encodeThriftStruct(original);
    expect(decodeThriftStruct(bytes)).toEqual(original);
    expect(Buffer.from(encodeThriftStruct(decodeThriftStruct(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses truncated input', () => {
    const bytes = footers['duckdb zstd'] as Uint8Array;
    expect(() => decodeThriftStruct(bytes.subarray(0, bytes.length - 10))).toThrow(/ends early/);
  });

  it('refuses unknown type codes', () => {
    // Field 1 with type code 14, which the compact protocol does not define.
    expect(() => decodeThriftStruct(Uint8Array.of(0x1e, 0x00))).toThrow(/unknown Thrift compact type 14/);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    // Field 1 of type struct, nested 100 deep.
    const nested = new Uint8Array(101).fill(0x1c);
    expect(() => decodeThriftStruct(nested)).toThrow(/nested too deeply/);
  });
});
