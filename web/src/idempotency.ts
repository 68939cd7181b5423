/**
 * One Idempotency-Key per form submission. The key lives in sessionStorage with the body it was
 * made for: a double click, a retry after a network error and a reload followed by the same
 * submission all send the same key, so the server creates the payment once. A final answer (any
 * 2xx or a 4xx that is not "try again") forgets it; a different body gets a new key.
 */
const PREFIX = 'sagapay.idempotency.';

interface StoredKey {
  key: string;
  body: string;
}

function read(form: string): StoredKey | undefined {
  try {
    const raw = sessionStorage.getItem(PREFIX + form);
    return raw ? (JSON.parse(raw) as StoredKey) : undefined;
  } catch {
    return undefined;
  }
}

/** The key for submitting `body` from `form`: the stored one when the body is the same, else a new one. */
export function idempotencyKeyFor(form: string, body: unknown): string {
  const serialized = JSON.stringify(body);
  const stored = read(form);
  if (stored && stored.body === serialized) return stored.key;
  const key = `${form}-${crypto.randomUUID()}`;
  sessionStorage.setItem(PREFIX + form, JSON.stringify({ key, body: serialized }));
  return key;
}

/** Forgets the form's key once the server gave a final answer. */
export function settleIdempotencyKey(form: string): void {
  sessionStorage.removeItem(PREFIX + form);
}

/** Whether an HTTP status is a final answer to a submission (the key can go) or a reason to retry with it. */
export function isFinalAnswer(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}
