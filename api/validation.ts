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
