import { IDEMPOTENCY_KEY_HEADER_SCHEMA } from '../idempotency';
import type { HeaderDoc } from './registry';

/**
 * The response headers the API sends, declared once so every route that sends one documents it
 * alike (name, whether it is always there, the form of its value).
 */

/** On a money-moving POST answered from an earlier request with the same Idempotency-Key. */
export const IDEMPOTENT_REPLAYED_HEADER: HeaderDoc = {
  description: '`true` when this answer replays an earlier request with the same Idempotency-Key; absent otherwise',
  required: false,
  schema: { type: 'string', enum: ['true'] },
};

/** On a 202: where the caller polls the saga, `<collection>/<id>` (e.g. `/v1/payments/pay_…`). */
export function locationHeader(collection: string): HeaderDoc {
  return {
    description: `where to poll until the saga is final: ${collection}/<id>`,
    required: true,
    schema: { type: 'string', pattern: `^${collection}/[A-Za-z0-9_]+$` },
  };
}

/** On a 429 or a 503: whole seconds to wait before trying again. */
export const RETRY_AFTER_HEADER: HeaderDoc = {
  description: 'whole seconds to wait before trying again (429: the rate limit window resets then; 503: the dependency is expected back)',
  required: true,
  schema: { type: 'integer', minimum: 1 },
};

/** The values of the request headers routes read, by name, where they are not any string. */
export const REQUEST_HEADER_SCHEMAS: Record<string, Record<string, unknown>> = {
  'Idempotency-Key': IDEMPOTENCY_KEY_HEADER_SCHEMA,
};
