import { Bool, type Data, type DataType, makeData, Type, Utf8, vectorFromArray } from 'apache-arrow';

/** Names of the ground-truth columns `abl-audit poison` adds. The audit never reads them to decide. */
export const GROUND_TRUTH_COLUMNS = ['poisoned', 'label_original', 'attack'] as const;

/** Schema metadata key holding the poisoning parameters and counts as JSON. */
export const POISON_METADATA_KEY = 'abl_audit.poison';

const buildData = makeData as unknown as (props: object) => Data;

/** A label column of the input's own type (int8-64, uint, float) holding `values`. */
export function labelData(type: DataType, values: Int32Array): Data {
  const Ctor = (type as DataType & { ArrayType: new (n: number) => ArrayLike<number | bigint> }).ArrayType;
  const out = new Ctor(values.length) as { [i: number]: number | bigint };
  const big = type.typeId === Type.Int && (type as DataType & { bitWidth: number }).bitWidth === 64;
  for (let i = 0; i < values.length; i++) out[i] = big ? BigInt(values[i] as number) : (values[i] as number);
  return buildData({ type, length: values.length, nullCount: 0, data: out });
}

/** A non-null boolean column. */
export function boolData(values: readonly boolean[]): Data {
  return vectorFromArray(values, new Bool()).data[0] as Data;
}

/** A string column, null where the value is null. */
export function utf8Data(values: readonly (string | null)[]): Data {
  return vectorFromArray(values, new Utf8()).data[0] as Data;
}
