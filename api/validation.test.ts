import { z } from 'zod';
import { HttpError } from './errors';
import { readIdempotencyKey, requestHash } from './idempotency';
import { amountSchema, currencySchema, listQuerySchema, parseInput, PLAIN_TEXT_PATTERN, plainText } from './validation';

const payment = z.object({ amount: amountSchema(100_000_000), currency: currencySchema(['USD', 'EUR']) });

function fieldsOf(input: unknown): Record<string, string> {
  try {
    parseInput(payment, input);
  } catch (error) {
    if (error instanceof HttpError && error.code === 'validation_error') return (error.details?.fields ?? {}) as Record<string, string>;
    throw error;
  }
  return {};
}

describe('amount and currency validation', () => {
  it.each([[1], [100_000_000], [4_242]])('when amount is %p, then it is accepted', (amount) => {
    expect(parseInput(payment, { amount, currency: 'USD' })).toEqual({ amount, currency: 'USD' });
  });

  it.each([[0], [-5], [12.5], ['100'], [100_000_001], [Number.MAX_SAFE_INTEGER + 1], [null], [undefined], [true]])(
    'when amount is %p, then it is a validation_error on amount',
    (amount) => {
      expect(Object.keys(fieldsOf({ amount, currency: 'USD' }))).toEqual(['amount']);
    },
  );

  it.each([['usd'], ['JPY'], [''], [42]])('when currency is %p, then it is a validation_error on currency', (currency) => {
    expect(Object.keys(fieldsOf({ amount: 100, currency }))).toEqual(['currency']);
  });

  it('when both fields are bad, then details lists both', () => {
    expect(Object.keys(fieldsOf({ amount: 0, currency: 'X' })).sort()).toEqual(['amount', 'currency']);
  });

  it('when the body is not an object, then the body itself is named', () => {
    expect(Object.keys(fieldsOf([1, 2]))).toEqual(['body']);
  });
});

describe('list query', () => {
  it.each([
    [{}, 20],
    [{ limit: '1' }, 1],
    [{ limit: '100' }, 100],
  ])('when the query is %p, then limit is %i', (query, limit) => {
    expect(parseInput(listQuerySchema, query).limit).toBe(limit);
  });

  it.each([['0'], ['101'], ['abc'], ['1.5'], ['-1']])('when limit is %p, then it is refused', (limit) => {
    expect(() => parseInput(listQuerySchema, { limit })).toThrow(HttpError);
  });
});

describe('idempotency keys', () => {
  it('when a key is absent or valid, then it is read as is', () => {
    expect(readIdempotencyKey(undefined)).toBeUndefined();
    expect(readIdempotencyKey('order-42')).toBe('order-42');
    expect(readIdempotencyKey('k'.repeat(255))).toBe('k'.repeat(255));
  });

  it.each([['k'.repeat(256)], ['tab\there'], ['ünïcode']])('when the key is %p, then it is a validation_error', (key) => {
    expect(() => readIdempotencyKey(key)).toThrow(HttpError);
  });

  it('when two bodies differ only in key order, then they hash alike; another value hashes apart', () => {
    const hash = requestHash('POST', '/v1/x', { amount: 5, currency: 'USD' });
    expect(requestHash('POST', '/v1/x', { currency: 'USD', amount: 5 })).toBe(hash);
    expect(requestHash('POST', '/v1/x', { currency: 'USD', amount: 6 })).not.toBe(hash);
    expect(requestHash('POST', '/v1/y', { currency: 'USD', amount: 5 })).not.toBe(hash);
  });
});

describe('plain text (notes, descriptions, reasons, names)', () => {
  const note = z.object({ note: plainText().max(200) });

  it.each([['Lunch money'], ['😀 ünïcödé and عربي and עברית'], ['see you at 5.30, ok?'], ['tabs\u00A0no-break space'], ['']])('when the text is %j, then it is accepted as is', (text) => {
    expect(parseInput(note, { note: text })).toEqual({ note: text });
  });

  it.each([
    ['line feed', 'one\ntwo'],
    ['carriage return', 'one\rtwo'],
    ['CRLF', 'one\r\nBcc: x@example.test'],
    ['tab', 'one\ttwo'],
    ['NUL', 'nul\u0000byte'],
    ['escape', '\u001b[31mred'],
    ['DEL', 'del\u007F'],
    ['NEL', 'next\u0085line'],
    ['line separator', 'one\u2028two'],
    ['paragraph separator', 'one\u2029two'],
    ['left-to-right mark', 'a\u200Eb'],
    ['right-to-left mark', 'a\u200Fb'],
    ['Arabic letter mark', 'a\u061Cb'],
    ['left-to-right embedding', 'a\u202Ab'],
    ['right-to-left override', 'invoice\u202Efdp.exe'],
    ['pop directional formatting', 'a\u202Cb'],
    ['left-to-right isolate', 'a\u2066b'],
    ['pop directional isolate', 'a\u2069b'],
  ])('when the text holds a %s, then it is a validation_error naming the field', (_what, text) => {
    try {
      parseInput(note, { note: text });
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).details?.fields).toEqual({ note: expect.stringContaining('one line of text') as string });
    }
  });

  it('when the OpenAPI document is built from the schema, then the field carries the same rule as its pattern', () => {
    const json = z.toJSONSchema(note, { io: 'input' }) as { properties?: Record<string, { pattern?: string }> };
    const pattern = json.properties?.note?.pattern ?? '';
    expect(pattern).toBe(PLAIN_TEXT_PATTERN.source);
    expect(new RegExp(pattern).test('a\u202Eb')).toBe(false);
  });
});
