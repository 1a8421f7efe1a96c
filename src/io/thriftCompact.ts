/**
 * A generic reader and writer of the Thrift compact protocol, the encoding of Parquet footers.
 *
 * Values keep their wire types, so a struct decoded and encoded again gives the same bytes, unknown
 * fields included: callers edit the few fields they understand and pass the rest through untouched.
 */

/** A decoded Thrift value with its wire type. */
export type ThriftValue =
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'i8' | 'i16' | 'i32'; readonly value: number }
  | { readonly kind: 'i64'; readonly value: bigint }
  | { readonly kind: 'double' | 'binary' | 'uuid'; readonly bytes: Uint8Array }
  | { readonly kind: 'list' | 'set'; readonly elementType: number; readonly items: readonly ThriftValue[] }
  | {
      readonly kind: 'map';
      readonly keyType: number;
      readonly valueType: number;
      readonly entries: readonly (readonly [ThriftValue, ThriftValue])[];
    }
  | { readonly kind: 'struct'; readonly fields: ThriftStruct };

/** A struct's fields by field id, in wire order. */
export type ThriftStruct = Map<number, ThriftValue>;

// Compact protocol type codes.
const STOP = 0;
const TRUE = 1;
const FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;
const UUID = 13;

// Parquet footers nest about five deep; the limit only stops hostile input from exhausting the stack.
const MAX_DEPTH = 64;

/**
 * Decodes one Thrift struct in the compact protocol.
 *
 * @example
 * ```ts
 * const fileMetaData = decodeThriftStruct(footerBytes);
 * const rowGroups = fileMetaData.get(4); // { kind: 'list', ... }
 * ```
 * @see encodeThriftStruct
 * @param bytes - the encoded struct (trailing bytes are ignored).
 * @returns the struct's fields.
 * @throws Error when the bytes end early or hold an unknown type code.
 */
export function decodeThriftStruct(bytes: Uint8Array): ThriftStruct {
  return new CompactReader(bytes).struct(0);
}

/**
 * Encodes a struct in the compact protocol; the inverse of {@link decodeThriftStruct}, byte for byte
 * for structs it decoded.
 *
 * @example
 * ```ts
 * const same = encodeThriftStruct(decodeThriftStruct(footerBytes));
 * ```
 * @see decodeThriftStruct
 * @param fields - the struct's fields, written in map order.
 * @returns the encoded bytes.
 */
export function encodeThriftStruct(fields: ThriftStruct): Uint8Array {
  const w = new CompactWriter();
  w.struct(fields);
  return w.finish();
}

class CompactReader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  struct(depth: number): ThriftStruct {
    if (depth > MAX_DEPTH) throw new Error('Thrift struct nested too deeply');
    const fields: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === STOP) return fields;
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(fromZigzag(this.varint())) : last + delta;
      last = id;
      fields.set(id, type === TRUE || type === FALSE ? bool(type === TRUE) : this.value(type, depth));
    }
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case TRUE:
      case FALSE:
        // Inside lists, sets and maps a boolean is a whole byte: 1 for true.
        return bool(this.byte() === TRUE);
      case BYTE:
        return { kind: 'i8', value: (this.byte() << 24) >> 24 };
      case I16:
        return { kind: 'i16', value: Number(fromZigzag(this.varint())) };
      case I32:
        return { kind: 'i32', value: Number(fromZigzag(this.varint())) };
      case I64:
        return { kind: 'i64', value: fromZigzag(this.varint()) };
      case DOUBLE:
        return { kind: 'double', bytes: this.take(8) };
      case BINARY:
        return { kind: 'binary', bytes: this.take(Number(this.varint())) };
      case UUID:
        return { kind: 'uuid', bytes: this.take(16) };
      case LIST:
      case SET: {
        const header = this.byte();
        const elementType = header & 0x0f;
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType, depth + 1));
        return { kind: type === LIST ? 'list' : 'set', elementType, items };
      }
      case MAP: {
        const size = Number(this.varint());
        const types = size > 0 ? this.byte() : 0;
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++)
          entries.push([this.value(keyType, depth + 1), this.value(valueType, depth + 1)]);
        return { kind: 'map', keyType, valueType, entries };
      }
      case STRUCT:
        return { kind: 'struct', fields: this.struct(depth + 1) };
      default:
        throw new Error(`unknown Thrift compact type ${type} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('Thrift data ends early');
    return this.bytes[this.pos++] as number;
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw new Error('Thrift data ends early');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('Thrift varint too long');
  }
}

class CompactWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  struct(fields: ThriftStruct): void {
    let last = 0;
    for (const [id, value] of fields) {
      const type = value.kind === 'bool' ? (value.value ? TRUE : FALSE) : typeCode(value);
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.varint(toZigzag(BigInt(id)));
      }
      last = id;
      if (value.kind !== 'bool') this.value(value);
    }
    this.byte(STOP);
  }

  private value(v: ThriftValue): void {
    switch (v.kind) {
      case 'bool':
        this.byte(v.value ? TRUE : FALSE);
        return;
      case 'i8':
        this.byte(v.value & 0xff);
        return;
      case 'i16':
      case 'i32':
        this.varint(toZigzag(BigInt(v.value)));
        return;
      case 'i64':
        this.varint(toZigzag(v.value));
        return;
      case 'double':
      case 'uuid':
        this.bytes(v.bytes);
        return;
      case 'binary':
        this.varint(BigInt(v.bytes.length));
        this.bytes(v.bytes);
        return;
      case 'list':
      case 'set':
        if (v.items.length < 15) this.byte((v.items.length << 4) | v.elementType);
        else {
          this.byte(0xf0 | v.elementType);
          this.varint(BigInt(v.items.length));
        }
        for (const item of v.items) this.value(item);
        return;
      case 'map':
        this.varint(BigInt(v.entries.length));
        if (v.entries.length > 0) this.byte((v.keyType << 4) | v.valueType);
        for (const [k, val] of v.entries) {
          this.value(k);
          this.value(val);
        }
        return;
      case 'struct':
        this.struct(v.fields);
        return;
    }
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private varint(n: bigint): void {
    let rest = n;
    do {
      let b = Number(rest & 0x7fn);
      rest >>= 7n;
      if (rest > 0n) b |= 0x80;
      this.byte(b);
    } while (rest > 0n);
  }
}

function bool(value: boolean): ThriftValue {
  return { kind: 'bool', value };
}

function typeCode(v: ThriftValue): number {
  switch (v.kind) {
    case 'bool':
      return TRUE;
    case 'i8':
      return BYTE;
    case 'i16':
      return I16;
    case 'i32':
      return I32;
    case 'i64':
      return I64;
    case 'double':
      return DOUBLE;
    case 'binary':
      return BINARY;
    case 'uuid':
      return UUID;
    case 'list':
      return LIST;
    case 'set':
      return SET;
    case 'map':
      return MAP;
    case 'struct':
      return STRUCT;
  }
}

function fromZigzag(n: bigint): bigint {
  return (n >> 1n) ^ -(n & 1n);
}

function toZigzag(n: bigint): bigint {
  // Thrift integers are at most 64 bits, so the sign fills from bit 63.
  return n >= 0n ? n << 1n : (-n << 1n) - 1n;
}
