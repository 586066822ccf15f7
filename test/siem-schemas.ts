/**
 * Validators of exported alerts against the published schemas: OCSF's Detection Finding as compiled from the
 * OCSF schema repository (test/schemas/, with its source), ECS from @elastic/ecs's field definitions. Each
 * returns the problems it found, so a failing test names every one.
 */
import { isIP } from 'node:net';
import { EcsFlat } from '@elastic/ecs';
import ocsf from './schemas/ocsf-1.8.0-detection-finding.json';

interface OcsfAttribute {
  requirement: string;
  type: string;
  object?: string;
  is_array?: boolean;
  enum?: number[];
}
interface OcsfObject {
  attributes: Record<string, OcsfAttribute>;
  constraints?: { at_least_one?: string[]; just_one?: string[] };
}

const OBJECTS = ocsf.objects as unknown as Record<string, OcsfObject>;
const INTEGER = new Set(['integer_t', 'long_t', 'timestamp_t', 'port_t']);
const NUMBER = new Set(['float_t']);
const BOOLEAN = new Set(['boolean_t']);

function checkOcsfValue(path: string, v: unknown, a: OcsfAttribute, problems: string[]): void {
  if (a.is_array) {
    if (!Array.isArray(v)) return void problems.push(`${path}: ${a.type} array expected`);
    v.forEach((x, i) => checkOcsfValue(`${path}[${i}]`, x, { ...a, is_array: false }, problems));
    return;
  }
  if (INTEGER.has(a.type)) {
    if (!Number.isInteger(v)) problems.push(`${path}: ${a.type} (an integer) expected, got ${JSON.stringify(v)}`);
  } else if (NUMBER.has(a.type)) {
    if (typeof v !== 'number') problems.push(`${path}: number expected`);
  } else if (BOOLEAN.has(a.type)) {
    if (typeof v !== 'boolean') problems.push(`${path}: boolean expected`);
  } else if (a.type === 'json_t') {
    // any JSON
  } else if (a.type.endsWith('_t')) {
    if (typeof v !== 'string') problems.push(`${path}: ${a.type} (a string) expected`);
    else if (a.type === 'ip_t' && isIP(v) === 0) problems.push(`${path}: not an IP address`);
  } else if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${path}: ${a.type} object expected`);
  } else if (OBJECTS[a.type]) {
    checkOcsfObject(path, v as Record<string, unknown>, OBJECTS[a.type]!, problems);
  }
  if (a.enum && !['class_uid', 'category_uid'].includes(path) && !a.enum.includes(v as number)) problems.push(`${path}: ${JSON.stringify(v)} is not one of ${a.enum.join(', ')}`);
}

function checkOcsfObject(path: string, o: Record<string, unknown>, schema: OcsfObject, problems: string[]): void {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  for (const [k, a] of Object.entries(schema.attributes)) {
    if (a.requirement === 'required' && (o[k] === undefined || o[k] === null)) problems.push(`${at(k)}: required, missing`);
  }
  for (const [k, v] of Object.entries(o)) {
    const a = schema.attributes[k];
    if (!a) problems.push(`${at(k)}: not an attribute of ${path || 'the class'}`);
    else checkOcsfValue(at(k), v, a, problems);
  }
  const one = schema.constraints?.at_least_one;
  if (one && !one.some((k) => o[k] !== undefined)) problems.push(`${path}: needs at least one of ${one.join(', ')}`);
}

/** Problems of an event as an OCSF 1.8 Detection Finding (class 2004). */
export function ocsfProblems(e: Record<string, unknown>): string[] {
  const problems: string[] = [];
  checkOcsfObject('', e, ocsf.class as unknown as OcsfObject, problems);
  if (e.class_uid !== ocsf.class_uid) problems.push(`class_uid: ${String(e.class_uid)}, not ${ocsf.class_uid}`);
  if (e.category_uid !== ocsf.category_uid) problems.push(`category_uid: ${String(e.category_uid)}, not ${ocsf.category_uid}`);
  if (e.type_uid !== Number(e.class_uid) * 100 + Number(e.activity_id)) problems.push('type_uid: not class_uid * 100 + activity_id');
  return problems;
}

type EcsField = { type: string; required?: boolean; normalize?: string[]; allowed_values?: { name: string; expected_event_types?: string[] }[] };
const ECS = EcsFlat as unknown as Record<string, EcsField>;

function leaves(o: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (ECS[path]?.type === 'object' || typeof v !== 'object' || v === null || Array.isArray(v)) return [[path, v] as [string, unknown]];
    return leaves(v as Record<string, unknown>, path);
  });
}

function ecsTypeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'keyword': case 'constant_keyword': case 'wildcard': case 'text': case 'match_only_text': return typeof v === 'string';
    case 'long': case 'integer': case 'short': case 'byte': case 'unsigned_long': return Number.isInteger(v);
    case 'float': case 'double': case 'scaled_float': case 'half_float': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'date': return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    case 'ip': return typeof v === 'string' && isIP(v) !== 0;
    case 'object': return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
    default: return true;
  }
}

/** Problems of a document as an ECS event: unknown fields, wrong types, values outside the allowed ones, required fields missing. */
export function ecsProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const fields = leaves(doc);
  const have = new Set(fields.map(([p]) => p));
  for (const [name, f] of Object.entries(ECS)) if (f.required && !have.has(name)) problems.push(`${name}: required, missing`);
  for (const [path, v] of fields) {
    const f = ECS[path];
    if (!f) {
      problems.push(`${path}: not an ECS field`);
      continue;
    }
    const values = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && !f.normalize?.includes('array')) problems.push(`${path}: not an array field`);
    for (const x of values) {
      if (!ecsTypeOk(f.type, x)) problems.push(`${path}: ${JSON.stringify(x)} is not a ${f.type}`);
      if (f.allowed_values && !f.allowed_values.some((a) => a.name === x)) problems.push(`${path}: ${JSON.stringify(x)} is not an allowed value`);
    }
  }
  const categories = (doc.event as { category?: string[] } | undefined)?.category ?? [];
  const types = (doc.event as { type?: string[] } | undefined)?.type ?? [];
  for (const c of categories) {
    const expected = ECS['event.category']!.allowed_values!.find((a) => a.name === c)?.expected_event_types ?? [];
    for (const t of types) if (!expected.includes(t)) problems.push(`event.type: ${t} is not expected with event.category ${c}`);
  }
  return problems;
}
