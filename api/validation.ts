import { z } from 'zod';
import { validationError } from './errors';
import { documentedAs } from './openapi/registry';

/** Parses `input` with `schema` or throws 400 validation_error listing each bad field. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    fields[field] ??= issue.message;
  }
  throw validationError(fields);
}

/**
 * What no text a person writes may hold: C0 and C1 control characters (tab, CR, LF and NEL among
 * them), DEL, the Unicode line and paragraph separators, and the bidirectional marks, embeddings,
 * overrides and isolates (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069). Line breaks let a note
 * fake a second message under ours; bidi controls make `moc.evil` read as `live.com`.
 */
const FORBIDDEN_IN_PLAIN_TEXT = '\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069';

/** One line of plain text: none of the characters above (the OpenAPI document publishes it as the field's `pattern`). */
export const PLAIN_TEXT_PATTERN = new RegExp(`^[^${FORBIDDEN_IN_PLAIN_TEXT}]*$`);

/** What a field holding a refused character is told. */
export const PLAIN_TEXT_MESSAGE = 'must be one line of text: no control characters, line breaks or bidirectional formatting characters';

/**
 * The one schema of text a person writes that others read: notes, descriptions, reasons and
 * names. Callers add their bounds (`plainText().max(200, …)`); the check runs on the text as sent,
 * before any trim.
 */
export function plainText() {
  return z.string({ message: 'must be a string' }).regex(PLAIN_TEXT_PATTERN, PLAIN_TEXT_MESSAGE);
}

/** An amount in minor units: a safe integer in 1..maxAmount (floats, strings, zero and negatives fail). */
export function amountSchema(maxAmount: number) {
  return z
    .number({ message: 'must be an integer number of minor units' })
    .int('must be an integer number of minor units')
    .refine(Number.isSafeInteger, 'must be a safe integer')
    .min(1, 'must be greater than 0')
    .max(maxAmount, `must be at most ${maxAmount}`);
}

/** A currency from the configured set. */
export function currencySchema(currencies: readonly string[]) {
  const [first, ...rest] = currencies;
  if (first === undefined) throw new Error('at least one currency must be configured');
  return z.enum([first, ...rest], { message: `must be one of ${currencies.join(', ')}` });
}

/** Query string of every list endpoint: `limit` 1–100 (default 20) and `startingAfter`. */
export const listQuerySchema = z.object({
  // A query string is text: the document says what the text must spell, an integer from 1 to 100.
  limit: documentedAs(
    z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1').max(100, 'must be at most 100')),
    { type: 'integer', minimum: 1, maximum: 100 },
  )
    .optional()
    .default(20),
  startingAfter: z.string().min(1).max(64).optional(),
});
