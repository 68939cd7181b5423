import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';

/** A JSON Schema (2020-12, as the OpenAPI 3.1 document writes them). */
export type JsonSchema = Record<string, unknown>;

/** Where `$ref`s point (the document's `components`), and values worth trying for named fields. */
export interface SchemaContext {
  components: Record<string, unknown>;
  /**
   * Realistic values for properties by name (real ids, the right e-mail…), mixed in with what the
   * schema alone would give: a schema says `merchantId` is a string, not which strings exist.
   */
  hints?: Record<string, fc.Arbitrary<unknown>>;
}

/** Strings longer than this are only tried as boundary or overlong values, not as ordinary ones. */
const ORDINARY_STRING_LENGTH = 24;

/** The longest overlong string the generator sends: far beyond any field's limit, well under the body limit. */
const OVERLONG_STRING_LENGTH = 5_000;

/** Follows a local `$ref` (`#/components/schemas/X`); other schemas come back as they are. */
export function resolveSchema(schema: JsonSchema, context: SchemaContext): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const path = ref.replace(/^#\/components\//, '').split('/');
  let target: unknown = context.components;
  for (const segment of path) target = (target as Record<string, unknown> | undefined)?.[segment];
  if (!target || typeof target !== 'object') throw new Error(`unresolvable $ref ${ref}`);
  return resolveSchema(target as JsonSchema, context);
}

/** The JSON types a schema names (`type` as a string or a list); empty when it names none. */
function typesOf(schema: JsonSchema): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((item): item is string => typeof item === 'string');
  return [];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/** Text of any unicode (astral planes and lone surrogates included), of a length in range. */
function text(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'binary' }) },
  );
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = numberOr(schema.minLength, 0);
  const maxLength = numberOr(schema.maxLength, 10_000);
  if (schema.format === 'date-time') {
    return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  }
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern);
    return fc.stringMatching(pattern, { size: 'small' }).filter((value) => value.length >= minLength && value.length <= maxLength);
  }
  const ordinaryMax = Math.min(maxLength, minLength + ORDINARY_STRING_LENGTH);
  // The boundaries: exactly the shortest and exactly the longest the schema allows.
  const boundaries = fc.constantFrom('a'.repeat(minLength), 'é'.repeat(maxLength), 'z'.repeat(Math.max(minLength, 1)).padEnd(maxLength, '界'));
  return fc.oneof({ weight: 6, arbitrary: text(minLength, ordinaryMax) }, { weight: 1, arbitrary: boundaries });
}

function validInteger(schema: JsonSchema): fc.Arbitrary<number> {
  const min = Math.max(numberOr(schema.minimum, Number.MIN_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
  const max = Math.min(numberOr(schema.maximum, Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  // Small values most of the time (a wallet holds few of them), the limits now and then.
  const small = fc.integer({ min, max: Math.min(max, Math.max(min, 0) + 500) });
  return fc.oneof({ weight: 4, arbitrary: small }, { weight: 2, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
}

function validObject(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) model[name] = validProperty(name, property, context);
  return fc.record(model, { requiredKeys: required.filter((name) => name in model) });
}

function validProperty(name: string, schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const hint = context.hints?.[name];
  const plain = validValue(schema, context);
  return hint ? fc.oneof({ weight: 4, arbitrary: hint }, { weight: 1, arbitrary: plain }) : plain;
}

/** Values the schema accepts: ordinary ones, its boundaries, and any unicode it allows. */
export function validValue(given: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const schema = resolveSchema(given, context);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  const types = typesOf(schema);
  // Branches beside a type narrow it (an object's "exactly one of these fields"): make the type, keep what they allow.
  if (Array.isArray(branches) && types.length > 0) return validValue({ ...schema, anyOf: undefined, oneOf: undefined }, context).filter((value) => accepts(schema, context, value));
  if (Array.isArray(branches)) return fc.oneof(...branches.map((branch) => validValue(branch, context)));
  if (types.length > 1) return fc.oneof(...types.map((type) => validValue({ ...schema, type }, context)));
  switch (types[0]) {
    case 'string':
      return validString(schema);
    case 'integer':
      return validInteger(schema);
    case 'number':
      return fc.double({ min: numberOr(schema.minimum, -1e9), max: numberOr(schema.maximum, 1e9), noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validValue((schema.items ?? {}) as JsonSchema, context), { minLength: numberOr(schema.minItems, 0), maxLength: Math.min(numberOr(schema.maxItems, 4), 4) });
    case 'object':
      return validObject(schema, context);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** JSON values of every type but the ones listed. */
function otherTypes(allowed: string[]): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.oneof(fc.constantFrom('', '0', '1', '100', 'null', 'true', '[]', '{}', '1e3', '-1'), fc.string({ maxLength: 8 })),
    integer: fc.oneof(fc.constantFrom(0, 1, -1, 100), fc.integer()),
    number: fc.constantFrom(0.5, -0.5, 1e300, -1e300, 12.34),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.oneof(fc.constant([]), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })),
    object: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })),
  };
  const widened = new Set(allowed);
  if (widened.has('number')) widened.add('integer');
  const others = Object.entries(all)
    .filter(([type]) => !widened.has(type))
    .map(([, arbitrary]) => arbitrary);
  return others.length > 0 ? fc.oneof(...others) : fc.constant(Symbol.for('no-other-type'));
}

function invalidString(schema: JsonSchema): fc.Arbitrary<unknown> {
  const minLength = numberOr(schema.minLength, 0);
  const candidates: fc.Arbitrary<unknown>[] = [otherTypes(['string'])];
  if (typeof schema.maxLength === 'number') {
    const tooLong = schema.maxLength + 1;
    candidates.push(fc.constantFrom('x'.repeat(tooLong), 'é'.repeat(tooLong), '😀'.repeat(tooLong), 'y'.repeat(Math.max(OVERLONG_STRING_LENGTH, tooLong))));
  }
  if (minLength > 0) candidates.push(fc.constantFrom('', 'a'.repeat(minLength - 1), ' '.repeat(minLength - 1)));
  if (typeof schema.pattern === 'string' || schema.format === 'date-time') {
    candidates.push(fc.oneof(fc.constantFrom('2026-13-01T00:00:00Z', 'yesterday', '1e2', ' 12', '12 ', '-5', '0x10', '١٢'), text(1, 12)));
  }
  return fc.oneof(...candidates);
}

function invalidInteger(schema: JsonSchema): fc.Arbitrary<unknown> {
  const min = numberOr(schema.minimum, Number.MIN_SAFE_INTEGER);
  const max = numberOr(schema.maximum, Number.MAX_SAFE_INTEGER);
  const outside = [min - 1, max + 1, -1, 0, -max, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e300];
  const fractions = [min + 0.5, 0.1, 1.0000001, max - 0.5, -0.5];
  const asText = [String(min), String(max), `${min}.0`, '1e3', ''];
  return fc.oneof(fc.constantFrom(...outside, ...fractions, ...asText), fc.double({ noNaN: true, noDefaultInfinity: true }), otherTypes(['integer']));
}

function invalidObject(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const valid = validObject(schema, context);
  const candidates: fc.Arbitrary<unknown>[] = [otherTypes(['object'])];
  if (required.length > 0) {
    // A valid object that lacks one of its required properties.
    candidates.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([value, missing]) => {
        const copy = { ...value };
        delete copy[missing];
        return copy;
      }),
    );
  }
  if (properties.some(([, property]) => hasInvalidValues(property, context))) {
    // A valid object with one property made invalid.
    const breakable = properties.filter(([, property]) => hasInvalidValues(property, context));
    const broken = breakable.map(([name, property]) => fc.tuple(valid, invalidValue(property, context)).map(([value, bad]) => ({ ...value, [name]: bad })));
    candidates.push(fc.oneof(...broken));
  }
  return fc.oneof(...candidates);
}

const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
const validators = new WeakMap<JsonSchema, ValidateFunction>();

/** Whether the schema accepts `value`, as a JSON Schema 2020-12 validator reads it. */
export function accepts(schema: JsonSchema, context: SchemaContext, value: unknown): boolean {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: context.components });
    validators.set(schema, validate);
  }
  return validate(value);
}

/** Whether a schema refuses anything at all (`{}` accepts every value: nothing invalid to make). */
export function hasInvalidValues(given: JsonSchema, context: SchemaContext): boolean {
  const schema = resolveSchema(given, context);
  return typesOf(schema).length > 0 || Array.isArray(schema.enum) || 'const' in schema || Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf);
}

/**
 * Values the schema refuses: wrong types, out-of-range, fractional and unsafe integers, numbers as
 * text, too short and overlong strings, strings off the pattern or the enum, objects missing a
 * required property or with one bad property. Each candidate is checked against the schema, so
 * what comes out is invalid for certain.
 */
export function invalidValue(given: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const schema = resolveSchema(given, context);
  let candidates: fc.Arbitrary<unknown>;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(schema.enum)) candidates = fc.oneof(fc.constantFrom('', 'unknown', String(schema.enum[0]).toLowerCase(), ` ${String(schema.enum[0])}`), otherTypes(['string']));
  else if (Array.isArray(branches) && typesOf(schema).length === 0) candidates = fc.oneof(...branches.map((branch) => invalidValue(branch, context)));
  else {
    const type = typesOf(schema)[0];
    if (type === 'string') candidates = invalidString(schema);
    else if (type === 'integer') candidates = invalidInteger(schema);
    else if (type === 'object') candidates = invalidObject({ ...schema, anyOf: undefined, oneOf: undefined }, context);
    else candidates = otherTypes(typesOf(schema));
  }
  return candidates.filter((value) => typeof value !== 'symbol' && !accepts(schema, context, value));
}
