/**
 * A decoded protobuf message to the JSON that Go's protojson writes with proto field names, which is what
 * `hubble observe -o json` prints. Pure and driven by the protobufjs reflection types, so it follows whatever
 * flow.proto the vendored protos define.
 *
 * protobufjs's toObject with TO_OBJECT_OPTIONS does the scalar forms (enums as names, 64-bit integers as
 * strings, bytes as base64, NaN and Infinity as strings, Any unpacked beside its "@type"). This walk does the
 * rest, which toObject cannot: the well-known types' JSON forms (Timestamp as RFC 3339, wrappers as their plain
 * value...) and protojson's omission of zero values. protobufjs's own hook for that, `wrappers`, is a
 * process-wide table keyed by type name: filling it would change every other protobufjs user in the process
 * (proto-loader's deserializers, grpc-js's own services), so the walk is done here instead.
 */
import { Enum, type Field, type IConversionOptions, Type } from 'protobufjs';

/** protobufjs toObject options giving protojson's scalar forms; proto-loader takes the same for its deserializers. */
export const TO_OBJECT_OPTIONS = {
  longs: String,
  enums: String,
  bytes: String,
  json: true,
  defaults: false,
  oneofs: false,
} satisfies IConversionOptions;

type Obj = Record<string, unknown>;

/** `object` is `type.toObject(message, TO_OBJECT_OPTIONS)`. Throws a RangeError for a Timestamp or Duration out of protojson's range, as protojson does. */
export function toProtoJson(type: Type, object: Obj): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(object)) {
    const field = type.fields[key];
    const v = field ? fieldJson(field, value) : value;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function fieldJson(field: Field, value: unknown): unknown {
  const t = field.resolvedType;
  if (field.map) {
    if (!(t instanceof Type)) return value;
    return Object.fromEntries(Object.entries(value as Obj).map(([k, v]) => [k, messageJson(t, v as Obj)]));
  }
  if (field.repeated) return t instanceof Type ? (value as Obj[]).map((v) => messageJson(t, v)) : value;
  if (t instanceof Type) return messageJson(t, value as Obj);
  // toObject keeps whatever was on the wire; proto3 fields without presence are omitted at zero by protojson
  // (Go never sends them, other writers may).
  return !field.hasPresence && isZero(field, value) ? undefined : value;
}

function messageJson(type: Type, object: Obj): unknown {
  const wkt = WELL_KNOWN[type.fullName];
  return wkt ? wkt(type, object) : toProtoJson(type, object);
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isZero(field: Field, value: unknown): boolean {
  if (field.resolvedType instanceof Enum) return value === 0 || field.resolvedType.values[value as string] === 0;
  if (typeof value === 'number') return Object.is(value, 0); // protojson keeps -0
  if (typeof value === 'boolean') return !value;
  return value === '' || (value === '0' && LONG_TYPES.has(field.type));
}

/** The JSON forms protojson gives the well-known types that flow.proto and observer.proto import (plus Duration). */
const WELL_KNOWN: Record<string, (type: Type, o: Obj) => unknown> = {
  '.google.protobuf.Timestamp': (_, o) => timestamp(o.seconds, o.nanos),
  '.google.protobuf.Duration': (_, o) => duration(o.seconds, o.nanos),
  '.google.protobuf.FieldMask': (_, o) =>
    ((o.paths ?? []) as string[]).map((p) => p.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())).join(','),
  '.google.protobuf.Any': anyJson,
};
// Wrappers are their plain value; an absent value is the zero, which toObject with defaults spells in the same forms.
for (const name of ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes']) {
  WELL_KNOWN[`.google.protobuf.${name}Value`] = (type, o) =>
    o.value ?? type.toObject(type.create(), { ...TO_OBJECT_OPTIONS, defaults: true }).value;
}

/**
 * toObject (json: true) unpacked the Any beside "@type" when the root knows the type; protojson writes a
 * well-known type's JSON form under "value". An Any of an unknown type stays packed ({type_url, value}).
 */
function anyJson(any: Type, o: Obj): unknown {
  const url = o['@type'];
  if (typeof url !== 'string') return toProtoJson(any, o);
  const inner = any.root.lookup(url.slice(url.lastIndexOf('/') + 1));
  const { '@type': _, ...fields } = o;
  if (!(inner instanceof Type)) return o;
  return WELL_KNOWN[inner.fullName] ? { '@type': url, value: messageJson(inner, fields) } : { '@type': url, ...toProtoJson(inner, fields) };
}

/** protojson's range for Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;

/** RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as protojson writes it ("2024-03-07T10:15:02.123456789Z"). */
export function timestamp(seconds: unknown, nanos: unknown): string {
  const s = Number(seconds ?? 0);
  const n = Number(nanos ?? 0);
  if (!Number.isInteger(s) || s < MIN_SECONDS || s > MAX_SECONDS || !Number.isInteger(n) || n < 0 || n > 999_999_999) {
    throw new RangeError(`google.protobuf.Timestamp out of range: ${String(seconds)}s ${String(nanos)}ns`);
  }
  return `${new Date(s * 1000).toISOString().slice(0, 19)}${fraction(n)}Z`;
}

/** "1.5s", "-0.000001s", "0s": seconds and nanos share a sign. */
function duration(seconds: unknown, nanos: unknown): string {
  const s = Number(seconds ?? 0);
  const n = Number(nanos ?? 0);
  if (!Number.isInteger(s) || Math.abs(s) > 315_576_000_000 || !Number.isInteger(n) || Math.abs(n) > 999_999_999 || s * n < 0) {
    throw new RangeError(`google.protobuf.Duration out of range: ${String(seconds)}s ${String(nanos)}ns`);
  }
  return `${s < 0 || n < 0 ? '-' : ''}${Math.abs(s)}${fraction(Math.abs(n))}s`;
}

function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const f = String(nanos).padStart(9, '0');
  return `.${f.endsWith('000000') ? f.slice(0, 3) : f.endsWith('000') ? f.slice(0, 6) : f}`;
}
