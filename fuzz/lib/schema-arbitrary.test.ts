import fc from 'fast-check';
import { accepts, hasInvalidValues, invalidValue, resolveSchema, validValue, type JsonSchema, type SchemaContext } from './schema-arbitrary';

const components = {
  schemas: {
    Amount: { type: 'integer', minimum: 1, maximum: 100000000 },
  },
};
const context: SchemaContext = { components };

const payment: JsonSchema = {
  type: 'object',
  properties: {
    merchantId: { type: 'string', minLength: 1, maxLength: 64 },
    amount: { $ref: '#/components/schemas/Amount' },
    currency: { type: 'string', enum: ['USD', 'EUR'] },
    description: { anyOf: [{ type: 'string', maxLength: 200 }, { type: 'null' }] },
  },
  required: ['amount', 'currency'],
};
const limit: JsonSchema = { type: 'string', pattern: '^\\d{1,3}$' };
const since: JsonSchema = { type: 'string', format: 'date-time' };
const phone: JsonSchema = { anyOf: [{ type: 'string', pattern: '^\\+[1-9]\\d{1,14}$' }, { type: 'null' }] };

const SCHEMAS: Array<[string, JsonSchema]> = [
  ['an object with a $ref, an enum and a nullable string', payment],
  ['a pattern string', limit],
  ['a date-time', since],
  ['a nullable pattern', phone],
  ['a bounded string', { type: 'string', minLength: 8, maxLength: 128 }],
  ['a boolean', { type: 'boolean' }],
];

describe('schema → arbitrary', () => {
  it.each(SCHEMAS)('when %s is generated from, then every valid value passes the schema', (_, schema) => {
    fc.assert(fc.property(validValue(schema, context), (value) => accepts(schema, context, value)), { numRuns: 300, seed: 1 });
  });

  it.each(SCHEMAS)('when %s is generated from, then every invalid value fails the schema', (_, schema) => {
    fc.assert(fc.property(invalidValue(schema, context), (value) => !accepts(schema, context, value)), { numRuns: 300, seed: 2 });
  });

  it('when an integer amount is made invalid, then floats, zero, negatives, out-of-range, unsafe integers and text all come out', () => {
    const samples = fc.sample(invalidValue({ $ref: '#/components/schemas/Amount' }, context), { numRuns: 2_000, seed: 3 });
    expect(samples).toEqual(expect.arrayContaining([0, -1, 100000001, 2 ** 53, 0.1, '1']));
    expect(samples.some((value) => typeof value === 'number' && !Number.isInteger(value))).toBe(true);
    expect(samples.some((value) => value === null || typeof value === 'boolean' || typeof value === 'object')).toBe(true);
  });

  it('when an integer amount is generated, then its boundaries (minimum and maximum) come out too', () => {
    const samples = fc.sample(validValue({ $ref: '#/components/schemas/Amount' }, context), { numRuns: 2_000, seed: 4 });
    expect(samples).toEqual(expect.arrayContaining([1, 100000000]));
  });

  it('when an object is made invalid, then some lack a required field and some have one bad field', () => {
    const samples = fc.sample(invalidValue(payment, context), { numRuns: 1_000, seed: 5 }).filter((value): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value));
    expect(samples.some((value) => !('amount' in value) || !('currency' in value))).toBe(true);
    expect(samples.some((value) => 'amount' in value && 'currency' in value && typeof value.currency === 'string' && !['USD', 'EUR'].includes(value.currency))).toBe(true);
  });

  it('when a bounded string is made invalid, then an overlong and a too-short one come out', () => {
    const samples = fc.sample(invalidValue({ type: 'string', minLength: 8, maxLength: 128 }, context), { numRuns: 1_000, seed: 6 });
    expect(samples.some((value) => typeof value === 'string' && value.length > 128)).toBe(true);
    expect(samples.some((value) => typeof value === 'string' && value.length < 8)).toBe(true);
  });

  it('when strings are generated, then characters beyond ASCII come out (astral ones included)', () => {
    const samples = fc.sample(validValue({ type: 'string', maxLength: 50 }, context), { numRuns: 1_000, seed: 7 });
    expect(samples.some((value) => typeof value === 'string' && /[^ -~]/.test(value))).toBe(true);
    expect(samples.some((value) => typeof value === 'string' && /[\u{10000}-\u{10ffff}]/u.test(value))).toBe(true);
  });

  it('when a schema accepts anything, then it has no invalid values to make', () => {
    expect(hasInvalidValues({}, context)).toBe(false);
    expect(hasInvalidValues({ type: 'string' }, context)).toBe(true);
  });

  it('when a $ref points nowhere, then resolving it says so', () => {
    expect(() => resolveSchema({ $ref: '#/components/schemas/Missing' }, context)).toThrow('unresolvable $ref #/components/schemas/Missing');
  });
});
