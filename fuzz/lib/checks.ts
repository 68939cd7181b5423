import type { ResponseValidator } from '../../test/support/openapi';

/** An answer as the checks see it. */
export interface Answer {
  status: number;
  headers: Headers;
  /** The body's text. */
  text: string;
  /** The parsed body when it was JSON, else the text. */
  body: unknown;
}

/** Secrets of the stack under test that no answer may show. */
export interface Secrets {
  jwtSecret: string;
  databasePassword: string;
}

/** Answers whose bodies are documents or static files, not API data: only secrets are looked for there. */
const DOCUMENT_PATHS = /^\/(docs|openapi\.json|metrics)(\/|$)/;

const STACK_TRACE = /\bat [\w.<>[\] ]*\(?[^\s()]*\.(ts|js|mjs|cjs):\d+(:\d+)?\)?|node:internal|\bError: .*\n\s+at /;
const PASSWORD_HASH = /\$argon2(id|i|d)\$|password_?hash/i;
const SQL_LEAK = /\bER_[A-Z_]{4,}\b|\bsqlMessage\b|\bsql_mode\b|SELECT .* FROM |INSERT INTO /;

/**
 * The reasons an answer breaks the contract: a 5xx (but `/readyz` may say 503), a status or body
 * the OpenAPI document does not declare, an error not in the contract's shape, or a stack trace,
 * SQL, password hash or secret in the body. Empty when the answer is fine.
 */
export function contractViolations(method: string, url: string, answer: Answer, validator: ResponseValidator, secrets: Secrets): string[] {
  const path = url.split('?')[0] ?? url;
  const problems: string[] = [];
  if (answer.status >= 500 && !(method === 'GET' && path === '/readyz' && answer.status === 503)) problems.push(`answered ${answer.status}`);
  try {
    validator.validate(method, url, { status: answer.status, headers: answer.headers, body: answer.body });
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (answer.status >= 400) problems.push(...errorShapeViolations(answer));
  const leaks: Array<[string, boolean]> = [
    ['the JWT secret', secrets.jwtSecret.length > 0 && answer.text.includes(secrets.jwtSecret)],
    ['the database password', secrets.databasePassword.length > 3 && answer.text.includes(secrets.databasePassword)],
  ];
  if (!DOCUMENT_PATHS.test(path)) {
    leaks.push(['a stack trace', STACK_TRACE.test(answer.text)], ['a password hash', PASSWORD_HASH.test(answer.text)], ['SQL', SQL_LEAK.test(answer.text)]);
  }
  for (const [what, found] of leaks) if (found) problems.push(`the body shows ${what}: ${answer.text.slice(0, 300)}`);
  return problems;
}

/** The contract's error shape: `{ error: { code (snake_case), message, requestId (= X-Request-Id), details? } }`. */
function errorShapeViolations(answer: Answer): string[] {
  const error = (answer.body as { error?: Record<string, unknown> } | null)?.error;
  if (!error || typeof error !== 'object') return [`an error answer without the error shape: ${answer.text.slice(0, 200)}`];
  const problems: string[] = [];
  if (typeof error.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(error.code)) problems.push(`error.code is not snake_case: ${JSON.stringify(error.code)}`);
  if (typeof error.message !== 'string' || error.message.length === 0) problems.push('error.message is missing');
  if (error.requestId !== answer.headers.get('x-request-id')) problems.push(`error.requestId ${JSON.stringify(error.requestId)} is not the X-Request-Id header ${JSON.stringify(answer.headers.get('x-request-id'))}`);
  if (answer.status === 429 && !answer.headers.get('retry-after')) problems.push('a 429 without Retry-After');
  return problems;
}
